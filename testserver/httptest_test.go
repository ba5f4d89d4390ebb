package testserver

import "net/http/httptest"

type httptestServer = httptest.Server

func newUnstarted() *httptest.Server { return httptest.NewUnstartedServer(nil) }

package testserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
)

// conditional is an RFC 7592 request on client c with If-Match ifMatch ("" for none); a PUT
// sends ccMetadata with client_name name.
func (e *env) conditional(method string, c registered, name, ifMatch string) resp {
	e.t.Helper()
	var body []byte
	if method == http.MethodPut {
		body, _ = json.Marshal(map[string]any{"client_id": c.ID, "grant_types": []string{"client_credentials"}, "scope": "dcr", "client_name": name})
	}
	req, _ := http.NewRequest(method, c.URI, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.RAT)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	return e.do(req)
}

// checklist37ETag: RFC 7592 GET and PUT (and the registration) return an ETag; a PUT or
// DELETE whose If-Match is stale gets 412 and changes nothing.
func checklist37ETag(t *testing.T) {
	t.Run("37_etag_and_if_match", func(t *testing.T) {
		e := start(t, nil)
		reg := e.register(ccMetadata)
		c := registered{str(reg.Body["client_id"]), str(reg.Body["client_secret"]), str(reg.Body["registration_access_token"]), str(reg.Body["registration_client_uri"])}
		get := func() resp { return e.conditional(http.MethodGet, c, "", "") }
		e0 := get().Header.Get("ETag")
		first := e.conditional(http.MethodPut, c, "first", e0)
		e1 := first.Header.Get("ETag")
		stale := e.conditional(http.MethodPut, c, "second", e0)
		after := get()
		star := e.conditional(http.MethodPut, c, "third", "*")
		list := e.conditional(http.MethodPut, c, "fourth", `"nope", `+star.Header.Get("ETag"))
		weak := e.conditional(http.MethodPut, c, "fifth", "W/"+list.Header.Get("ETag"))
		staleDelete := e.conditional(http.MethodDelete, c, "", e0)
		del := e.conditional(http.MethodDelete, c, "", list.Header.Get("ETag"))
		got := []any{reg.Header.Get("ETag") == e0, len(e0) > 2 && e0[0] == '"', first.Status, e1 != e0,
			errOf(stale), after.Body["client_name"], after.Header.Get("ETag") == e1,
			star.Status, list.Status, errOf(weak), errOf(staleDelete), del.Status}
		want := []any{true, true, 200, true,
			errResult{412, "invalid_request"}, "first", true,
			200, 200, errResult{412, "invalid_request"}, errResult{412, "invalid_request"}, 204}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
	t.Run("37_concurrent_updates_with_one_if_match_one_wins", func(t *testing.T) {
		e := start(t, nil)
		c := e.mustRegister(t, ccMetadata)
		tag := e.conditional(http.MethodGet, c, "", "").Header.Get("ETag")
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = e.conditional(http.MethodPut, c, "writer-"+strconv.Itoa(i), tag).Status })
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if want := map[int]int{200: 1, 412: n - 1}; !reflect.DeepEqual(count, want) {
			t.Errorf("statuses of %d concurrent PUTs with one If-Match = %v, want %v", n, count, want)
		}
	})
	t.Run("37_rotation_keeps_etag", func(t *testing.T) {
		e := start(t, func(c *Config) {
			c.RotateRegistrationToken, c.RotateClientSecret = RotateOnReadAndUpdate, RotateOnReadAndUpdate
		})
		c := e.mustRegister(t, ccMetadata)
		g1 := e.conditional(http.MethodGet, c, "", "")
		c.RAT = str(g1.Body["registration_access_token"])
		g2 := e.conditional(http.MethodGet, c, "", "")
		if g1.Header.Get("ETag") != g2.Header.Get("ETag") || g1.Body["client_secret"] == g2.Body["client_secret"] {
			t.Errorf("a rotating read changed the ETag (%s → %s) or did not rotate", g1.Header.Get("ETag"), g2.Header.Get("ETag"))
		}
	})
}

package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeAS is a small RFC 7591/7592 authorization server written for these tests from the
// RFCs, with the quirks of real servers switchable. It is a peer, not a mock of our HTTP
// layer: the client under test talks real HTTP to it.
type fakeAS struct {
	opts fakeOpts
	srv  *httptest.Server

	mu       sync.Mutex
	seq      int
	clients  map[string]*fakeClient // by client_id
	requests []fakeRequest
}

type fakeOpts struct {
	initialToken   string // required initial access token; "" = open registration
	createdStatus  int    // status of a successful registration; 0 = 201
	rotateOnRead   bool   // rotate the registration access token and the secret on GET
	rotateOnUpdate bool   // … and on PUT
	omitSecretRead bool   // GET does not return client_secret
	rejectUnknown  bool   // 400 invalid_client_metadata on members it does not know
	deleteStatus   int    // status of a successful DELETE; 0 = 204
}

type fakeClient struct {
	id, secret, token string
	rotation          int
	metadata          map[string]json.RawMessage
}

type fakeRequest struct {
	Method, Path, Authorization, ContentType string
	Body                                     map[string]any
}

func newFakeAS(t *testing.T, opts fakeOpts) *fakeAS {
	t.Helper()
	as := &fakeAS{opts: opts, clients: map[string]*fakeClient{}}
	as.srv = httptest.NewServer(http.HandlerFunc(as.serve))
	t.Cleanup(as.srv.Close)
	return as
}

func (as *fakeAS) endpoint() string { return as.srv.URL + "/register" }

func (as *fakeAS) recorded() []fakeRequest {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]fakeRequest(nil), as.requests...)
}

// knownMembers are the members fakeAS stores when rejectUnknown is set.
var fakeKnown = map[string]bool{"redirect_uris": true, "grant_types": true, "response_types": true, "client_name": true,
	"token_endpoint_auth_method": true, "scope": true, "software_id": true, "client_id": true, "client_secret": true}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (as *fakeAS) serve(w http.ResponseWriter, r *http.Request) {
	as.mu.Lock()
	defer as.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	req := fakeRequest{Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
	var members map[string]json.RawMessage
	if len(body) > 0 {
		json.Unmarshal(body, &req.Body)
		json.Unmarshal(body, &members)
	}
	as.requests = append(as.requests, req)
	bearer, _ := strings.CutPrefix(req.Authorization, "Bearer ")

	if r.URL.Path == "/register" {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if as.opts.initialToken != "" {
			switch bearer {
			case "":
				w.Header().Set("WWW-Authenticate", `Bearer realm="fake"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			case "no-dcr-scope":
				w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="insufficient_scope", scope="dcr"`)
				oauthError(w, http.StatusForbidden, "insufficient_scope", "the token lacks scope dcr")
				return
			case as.opts.initialToken:
			default:
				w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token", error_description="token `+bearer+` is unknown"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		if members == nil {
			oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body must be a JSON object")
			return
		}
		if err := as.checkUnknown(members); err != "" {
			oauthError(w, http.StatusBadRequest, "invalid_client_metadata", err)
			return
		}
		as.seq++
		c := &fakeClient{id: fmt.Sprintf("client-%d", as.seq), metadata: members}
		delete(c.metadata, "client_secret")
		if string(members["token_endpoint_auth_method"]) != `"none"` {
			c.secret = fmt.Sprintf("secret-%d.0", as.seq)
		}
		c.token = fmt.Sprintf("rat-%d.0", as.seq)
		as.clients[c.id] = c
		status := as.opts.createdStatus
		if status == 0 {
			status = http.StatusCreated
		}
		writeJSON(w, status, as.info(c, true))
		return
	}

	id, ok := strings.CutPrefix(r.URL.Path, "/register/")
	c := as.clients[id]
	if !ok || c == nil || bearer != c.token {
		// RFC 7592 §2.1: unknown client or wrong token → 401, no client_id in the body.
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if as.opts.rotateOnRead {
			as.rotate(c)
		}
		writeJSON(w, http.StatusOK, as.info(c, !as.opts.omitSecretRead))
	case http.MethodPut:
		for _, forbidden := range []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"} {
			if _, ok := members[forbidden]; ok {
				oauthError(w, http.StatusBadRequest, "invalid_request", forbidden+" must not be sent")
				return
			}
		}
		if string(members["client_id"]) != `"`+c.id+`"` {
			oauthError(w, http.StatusBadRequest, "invalid_request", "client_id must be sent and match")
			return
		}
		if s, ok := members["client_secret"]; ok && string(s) != `"`+c.secret+`"` {
			oauthError(w, http.StatusBadRequest, "invalid_request", "client_secret does not match")
			return
		}
		if err := as.checkUnknown(members); err != "" {
			oauthError(w, http.StatusBadRequest, "invalid_client_metadata", err)
			return
		}
		delete(members, "client_id")
		delete(members, "client_secret")
		c.metadata = members
		if as.opts.rotateOnUpdate {
			as.rotate(c)
		}
		writeJSON(w, http.StatusOK, as.info(c, true))
	case http.MethodDelete:
		delete(as.clients, id)
		status := as.opts.deleteStatus
		if status == 0 {
			status = http.StatusNoContent
		}
		w.WriteHeader(status)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (as *fakeAS) checkUnknown(members map[string]json.RawMessage) string {
	if !as.opts.rejectUnknown {
		return ""
	}
	for k := range members {
		if !fakeKnown[k] {
			return "unknown member " + k
		}
	}
	return ""
}

func (as *fakeAS) rotate(c *fakeClient) {
	c.rotation++
	n := strings.TrimPrefix(c.id, "client-")
	c.token = fmt.Sprintf("rat-%s.%d", n, c.rotation)
	if c.secret != "" {
		c.secret = fmt.Sprintf("secret-%s.%d", n, c.rotation)
	}
}

func (as *fakeAS) info(c *fakeClient, withSecret bool) map[string]any {
	m := map[string]any{}
	for k, v := range c.metadata {
		m[k] = v
	}
	m["client_id"] = c.id
	m["client_id_issued_at"] = 1700000000
	if c.secret != "" && withSecret {
		m["client_secret"] = c.secret
		m["client_secret_expires_at"] = 0
	}
	m["registration_access_token"] = c.token
	m["registration_client_uri"] = as.srv.URL + "/register/" + c.id
	return m
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// regFor is the Registration fakeAS describes for client n at rotation r.
func regFor(as *fakeAS, n, r string, md Metadata, withSecret bool) *Registration {
	reg := &Registration{
		Metadata:                md,
		ClientID:                "client-" + n,
		ClientIDIssuedAt:        1700000000,
		RegistrationAccessToken: "rat-" + n + "." + r,
		RegistrationClientURI:   as.srv.URL + "/register/client-" + n,
	}
	if withSecret {
		reg.ClientSecret = "secret-" + n + "." + r
	}
	return reg
}

func mustJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// TestLifecycle runs register → read → update → read → delete against servers with the
// behaviours of real ones, and checks every result whole and every request the server saw.
func TestLifecycle(t *testing.T) {
	md := Metadata{
		RedirectURIs:  []string{"https://app.example/cb"},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"},
		ClientName:    "lifecycle",
		Extra:         map[string]json.RawMessage{"x_vendor": json.RawMessage(`{"tier":"gold"}`)},
	}
	updated := md
	updated.ClientName = "renamed"
	updated.Extra = map[string]json.RawMessage{"x_vendor": json.RawMessage(`{"tier":"platinum"}`)}

	tests := []struct {
		name string
		opts fakeOpts
		// the rotation index the credentials carry after register, read, update and read
		rotations [4]string
		// whether the secret returned by each read is the held one (server omitted it)
		readKeepsSecret bool
	}{
		{name: "no rotation", rotations: [4]string{"0", "0", "0", "0"}},
		{name: "curity: token and secret rotate on read and update", opts: fakeOpts{rotateOnRead: true, rotateOnUpdate: true}, rotations: [4]string{"0", "1", "2", "3"}},
		{name: "rotation on update only", opts: fakeOpts{rotateOnUpdate: true}, rotations: [4]string{"0", "0", "1", "1"}},
		{name: "200 instead of 201, delete answers 200", opts: fakeOpts{createdStatus: 200, deleteStatus: 200}, rotations: [4]string{"0", "0", "0", "0"}},
		{name: "read omits the secret", opts: fakeOpts{omitSecretRead: true}, rotations: [4]string{"0", "0", "0", "0"}, readKeepsSecret: true},
		{name: "initial access token required", opts: fakeOpts{initialToken: "iat-1"}, rotations: [4]string{"0", "0", "0", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeAS(t, tc.opts)
			ctx := context.Background()
			var c Client

			reg, err := c.Register(ctx, as.endpoint(), tc.opts.initialToken, md)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "register", reg, regFor(as, "1", tc.rotations[0], md, true))

			read, err := c.Read(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "read", read, regFor(as, "1", tc.rotations[1], md, true))

			up, err := c.Update(ctx, read, updated)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "update", up, regFor(as, "1", tc.rotations[2], updated, true))

			read2, err := c.Read(ctx, up)
			if err != nil {
				t.Fatal(err)
			}
			check(t, "second read", read2, regFor(as, "1", tc.rotations[3], updated, true))

			if err := c.Delete(ctx, read2); err != nil {
				t.Fatal(err)
			}
			// The old token no longer works: RFC 7592 §2.3 has the server answer 401.
			_, err = c.Read(ctx, read2)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("read after delete: %v, want an *Error", err)
			}
			check(t, "read after delete", *pe, Error{Op: "read", StatusCode: 401, Code: "invalid_token"})

			auth := func(tok string) string { return "Bearer " + tok }
			iat := ""
			if tc.opts.initialToken != "" {
				iat = auth(tc.opts.initialToken)
			}
			uri := "/register/client-1"
			wantUpdate := mustJSON(t, updated)
			wantUpdate["client_id"] = "client-1"
			wantUpdate["client_secret"] = "secret-1." + tc.rotations[1]
			wantReqs := []fakeRequest{
				{Method: "POST", Path: "/register", Authorization: iat, ContentType: "application/json", Body: mustJSON(t, md)},
				{Method: "GET", Path: uri, Authorization: auth("rat-1." + tc.rotations[0])},
				{Method: "PUT", Path: uri, Authorization: auth("rat-1." + tc.rotations[1]), ContentType: "application/json", Body: wantUpdate},
				{Method: "GET", Path: uri, Authorization: auth("rat-1." + tc.rotations[2])},
				{Method: "DELETE", Path: uri, Authorization: auth("rat-1." + tc.rotations[3])},
				{Method: "GET", Path: uri, Authorization: auth("rat-1." + tc.rotations[3])},
			}
			check(t, "requests", as.recorded(), wantReqs)
		})
	}
}

func TestRegisterTemplate(t *testing.T) {
	as := newFakeAS(t, fakeOpts{initialToken: "iat"})
	extra := Metadata{ClientName: "my phone", Extra: map[string]json.RawMessage{"x_device": json.RawMessage(`"P9"`)}}
	reg, err := new(Client).RegisterTemplate(context.Background(), as.endpoint(), "iat", "mobile-app", extra)
	if err != nil {
		t.Fatal(err)
	}
	want := extra
	want.SoftwareID = "mobile-app"
	check(t, "registration", reg, regFor(as, "1", "0", want, true))
	check(t, "request body", as.recorded()[0].Body, map[string]any{"software_id": "mobile-app", "client_name": "my phone", "x_device": "P9"})

	_, err = new(Client).RegisterTemplate(context.Background(), as.endpoint(), "iat", "mobile-app", Metadata{SoftwareID: "other"})
	check(t, "conflicting software_id", errString(err), `client: register: template "mobile-app" conflicts with software_id "other" in the metadata: give one`)
	_, err = new(Client).RegisterTemplate(context.Background(), as.endpoint(), "iat", "", Metadata{})
	check(t, "no template", errString(err), `client: register: no template id given`)
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestUpdateRequestBody checks what Update sends: client_id, the held secret only, and never
// the four members RFC 7592 §2.2 forbids, even when the caller's metadata holds them.
func TestUpdateRequestBody(t *testing.T) {
	tests := []struct {
		name string
		reg  Registration
		md   Metadata
		want string
	}{
		{"confidential", Registration{ClientID: "c1", ClientSecret: "s1"}, Metadata{ClientName: "n"}, `{"client_id":"c1","client_secret":"s1","client_name":"n"}`},
		{"public: no secret", Registration{ClientID: "c1"}, Metadata{ClientName: "n", TokenEndpointAuthMethod: "none"}, `{"client_id":"c1","token_endpoint_auth_method":"none","client_name":"n"}`},
		{"forbidden members in Extra are dropped", Registration{ClientID: "c1"}, Metadata{Extra: map[string]json.RawMessage{
			"registration_access_token": json.RawMessage(`"x"`), "registration_client_uri": json.RawMessage(`"x"`),
			"client_secret_expires_at": json.RawMessage(`0`), "client_id_issued_at": json.RawMessage(`1`),
			"client_id": json.RawMessage(`"evil"`), "client_secret": json.RawMessage(`"evil"`), "x_keep": json.RawMessage(`1`)}},
			`{"client_id":"c1","x_keep":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := updateRequest(&tc.reg, tc.md)
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestRegisterResponses feeds Register the answers real (and broken) servers give.
func TestRegisterResponses(t *testing.T) {
	const js = "application/json"
	full := `{"client_id":"c1","client_secret":"s3cr3t-value","client_secret_expires_at":0,"client_id_issued_at":1700000000,
	"registration_access_token":"rat-value","registration_client_uri":"{{base}}/register/c1","client_name":"x","x_new":[1]}`
	tests := []struct {
		name    string
		token   string
		reply   reply
		want    *Registration // with "{{base}}" in RegistrationClientURI
		wantErr string        // the whole error string, "{{base}}" replaced
		wantPE  *Error        // the *Error inside, if any
	}{
		{
			name:  "201 full",
			reply: reply{Status: 201, ContentType: js, Body: full},
			want: &Registration{Metadata: Metadata{ClientName: "x", Extra: map[string]json.RawMessage{"x_new": json.RawMessage(`[1]`)}},
				ClientID: "c1", ClientSecret: "s3cr3t-value", ClientIDIssuedAt: 1700000000, RegistrationAccessToken: "rat-value", RegistrationClientURI: "{{base}}/register/c1"},
			wantErr: "<nil>",
		},
		{
			name:    "public client, no management, float dates",
			reply:   reply{Status: 201, ContentType: "application/json;charset=UTF-8", Body: `{"client_id":"c2","client_id_issued_at":1.7e9,"token_endpoint_auth_method":"none"}`},
			want:    &Registration{Metadata: Metadata{TokenEndpointAuthMethod: "none"}, ClientID: "c2", ClientIDIssuedAt: 1700000000},
			wantErr: "<nil>",
		},
		{
			name:    "missing client_id",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_name":"x"}`},
			want:    &Registration{Metadata: Metadata{ClientName: "x"}},
			wantErr: "client: register: incomplete registration response: the server's response lacks client_id (REQUIRED, RFC 7591 §3.2.1); the server may have created the client anyway",
		},
		{
			name:    "secret without expiry, token without uri",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1","client_secret":"s3cr3t-value","registration_access_token":"rat-value"}`},
			want:    &Registration{ClientID: "c1", ClientSecret: "s3cr3t-value", RegistrationAccessToken: "rat-value"},
			wantErr: "client: register: incomplete registration response: the server's response lacks client_secret_expires_at (REQUIRED when client_secret is issued, RFC 7591 §3.2.1), and registration_client_uri (REQUIRED with registration_access_token, RFC 7592 §3); the server may have created the client anyway",
		},
		{
			name:    "uri without token",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1","registration_client_uri":"{{base}}/r"}`},
			want:    &Registration{ClientID: "c1", RegistrationClientURI: "{{base}}/r"},
			wantErr: "client: register: incomplete registration response: the server's response lacks registration_access_token (REQUIRED with registration_client_uri, RFC 7592 §3); the server may have created the client anyway",
		},
		{
			name:    "wrong content type",
			reply:   reply{Status: 201, ContentType: "text/html", Body: full},
			wantErr: "client: register: the server answered 201 with Content-Type text/html, want application/json",
		},
		{
			name:    "no content type",
			reply:   reply{Status: 201, Header: map[string]string{"Content-Type": ""}, Body: full},
			wantErr: "client: register: the server answered 201 with Content-Type none, want application/json",
		},
		{
			name:    "malformed JSON",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1",`},
			wantErr: "client: register: malformed client information response: unexpected end of JSON input",
		},
		{
			name:    "secret of the wrong type is not echoed",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1","client_secret":["s3cr3t-value"]}`},
			wantErr: `client: register: malformed client information response: member "client_secret" has the wrong type`,
		},
		{
			name:    "oversized body",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1","x":"` + strings.Repeat("x", MaxResponseSize) + `"}`},
			wantErr: "client: register: the response from {{base}}/register is larger than 1 MiB: refusing to read it",
		},
		{
			name:    "400 on unknown fields",
			reply:   reply{Status: 400, ContentType: js, Body: `{"error":"invalid_client_metadata","error_description":"unknown field x_new"}`},
			wantErr: `client: register: the server answered 400 Bad Request with error invalid_client_metadata ("unknown field x_new"): fix the client metadata named in the description (grant_types and response_types must agree; a template id in software_id must exist on the server; unknown values may be refused)`,
			wantPE:  &Error{Op: "register", StatusCode: 400, Code: "invalid_client_metadata", Description: "unknown field x_new"},
		},
		{
			name:    "400 invalid_redirect_uri with uri",
			reply:   reply{Status: 400, ContentType: js, Body: `{"error":"invalid_redirect_uri","error_description":"fragment","error_uri":"https://as.example/doc"}`},
			wantErr: `client: register: the server answered 400 Bad Request with error invalid_redirect_uri ("fragment"): fix redirect_uris: each must be an absolute URI without a fragment; plain http is allowed only for loopback hosts (127.0.0.1, [::1]); native apps may use a private-use scheme such as com.example.app:/cb (see https://as.example/doc)`,
			wantPE:  &Error{Op: "register", StatusCode: 400, Code: "invalid_redirect_uri", Description: "fragment", URI: "https://as.example/doc"},
		},
		{
			name:    "401 with WWW-Authenticate only, token echoed by the server is redacted",
			token:   "iat-secret-value",
			reply:   reply{Status: 401, Header: map[string]string{"WWW-Authenticate": `Bearer realm="as", error="invalid_token", error_description="token iat-secret-value expired"`}},
			wantErr: `client: register: the server answered 401 Unauthorized with error invalid_token ("token [REDACTED] expired"): the initial access token is invalid, expired or already used: get a fresh one (a client-credentials or login token with scope dcr)`,
			wantPE:  &Error{Op: "register", StatusCode: 401, Code: "invalid_token", Description: "token [REDACTED] expired"},
		},
		{
			name:    "401 without credentials",
			reply:   reply{Status: 401, Header: map[string]string{"WWW-Authenticate": `Bearer realm="as"`}},
			wantErr: `client: register: the server answered 401 Unauthorized: the server requires an initial access token: pass one (a client-credentials or login token with scope dcr)`,
			wantPE:  &Error{Op: "register", StatusCode: 401},
		},
		{
			name:    "403 insufficient_scope",
			token:   "tok",
			reply:   reply{Status: 403, ContentType: js, Body: `{"error":"insufficient_scope"}`, Header: map[string]string{"WWW-Authenticate": `Bearer error="insufficient_scope", error_description="needs dcr", scope="dcr"`}},
			wantErr: `client: register: the server answered 403 Forbidden with error insufficient_scope ("needs dcr"): the initial access token lacks the dcr scope: request a token with scope dcr`,
			wantPE:  &Error{Op: "register", StatusCode: 403, Code: "insufficient_scope", Description: "needs dcr"},
		},
		{
			name:    "500 html",
			reply:   reply{Status: 500, ContentType: "text/html", Body: `<h1>oops</h1>`},
			wantErr: `client: register: the server answered 500 Internal Server Error: the server failed: try again later, or ask its operator`,
			wantPE:  &Error{Op: "register", StatusCode: 500},
		},
		{
			name:    "404: registration disabled",
			reply:   reply{Status: 404, ContentType: "text/plain", Body: `404 page not found`},
			wantErr: `client: register: the server answered 404 Not Found: there is no registration endpoint at this URL: registration may be disabled on the server; check the registration_endpoint in its discovery metadata`,
			wantPE:  &Error{Op: "register", StatusCode: 404},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCannedServer(t, map[string]reply{"/register": tc.reply})
			fix := func(v string) string { return strings.ReplaceAll(v, "{{base}}", s.URL) }
			got, err := new(Client).Register(context.Background(), s.URL+"/register", tc.token, Metadata{ClientName: "x"})
			if tc.want != nil {
				tc.want.RegistrationClientURI = fix(tc.want.RegistrationClientURI)
			}
			check(t, "registration", got, tc.want)
			check(t, "error", errString(err), fix(tc.wantErr))
			var pe *Error
			if errors.As(err, &pe) || tc.wantPE != nil {
				check(t, "*Error", pe, tc.wantPE)
			}
			for _, secret := range []string{"s3cr3t-value", "rat-value", "iat-secret-value"} {
				if strings.Contains(errString(err), secret) {
					t.Errorf("error %q reveals a secret", err)
				}
			}
		})
	}
}

func TestMetadataRefusedBeforeSending(t *testing.T) {
	s := newCannedServer(t, map[string]reply{})
	tests := []struct {
		name    string
		md      Metadata
		wantErr string
	}{
		{"jwks and jwks_uri", Metadata{JWKSURI: "https://a/jwks", JWKS: json.RawMessage(`{"keys":[]}`)},
			"jwks and jwks_uri are both set: RFC 7591 §2 allows only one; keep jwks_uri if the keys are published, jwks otherwise"},
		{"jwks not a set", Metadata{JWKS: json.RawMessage(`[{"kty":"EC"}]`)}, `jwks must be a JWK Set, a JSON object {"keys": [...]} (RFC 7591 §2, RFC 7517 §5)`},
		{"extra repeats a field", Metadata{Extra: map[string]json.RawMessage{"scope": json.RawMessage(`"x"`)}},
			`encoding the metadata: Extra member "scope" has a field of its own: set the field instead`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := new(Client).Register(context.Background(), s.URL+"/register", "", tc.md)
			check(t, "register", errString(err), "client: register: "+tc.wantErr)
			_, err = new(Client).Update(context.Background(), &Registration{ClientID: "c", RegistrationAccessToken: "t", RegistrationClientURI: s.URL + "/r"}, tc.md)
			check(t, "update", errString(err), "client: update: "+tc.wantErr)
			check(t, "requests sent", s.requests(), []string(nil))
		})
	}
}

func TestRegisterRequest(t *testing.T) {
	s := newCannedServer(t, map[string]reply{"/register": {Status: 201, ContentType: "application/json", Body: `{"client_id":"c"}`}})
	var gotHeader http.Header
	s.Config.Handler = wrapHeaders(s.Config.Handler, &gotHeader)
	c := Client{UserAgent: "dcrctl/test"}
	if _, err := c.Register(context.Background(), s.URL+"/register", "iat", Metadata{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Authorization": "Bearer iat", "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "dcrctl/test"}
	got := map[string]string{}
	for k := range want {
		got[k] = gotHeader.Get(k)
	}
	check(t, "request headers", got, want)
	if _, err := c.Register(context.Background(), s.URL+"/register", "", Metadata{}); err != nil {
		t.Fatal(err)
	}
	check(t, "open registration sends no Authorization", gotHeader.Values("Authorization"), []string(nil))
}

func wrapHeaders(h http.Handler, into *http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*into = r.Header.Clone()
		h.ServeHTTP(w, r)
	})
}

// TestManagementResponses covers what reads and updates may get back.
func TestManagementResponses(t *testing.T) {
	const js = "application/json"
	held := func(base string) *Registration {
		return &Registration{ClientID: "c1", ClientSecret: "old-secret", ClientSecretExpiresAt: 1800000000, ClientIDIssuedAt: 1700000000,
			RegistrationAccessToken: "old-rat", RegistrationClientURI: base + "/register/c1"}
	}
	tests := []struct {
		name    string
		reply   reply
		want    func(base string) *Registration
		wantErr string
	}{
		{
			name:  "rotation of token and secret",
			reply: reply{ContentType: js, Body: `{"client_id":"c1","client_secret":"new-secret","client_secret_expires_at":0,"registration_access_token":"new-rat","registration_client_uri":"{{base}}/register/c1","client_name":"n"}`},
			want: func(base string) *Registration {
				return &Registration{Metadata: Metadata{ClientName: "n"}, ClientID: "c1", ClientSecret: "new-secret", ClientIDIssuedAt: 1700000000, RegistrationAccessToken: "new-rat", RegistrationClientURI: base + "/register/c1"}
			},
			wantErr: "<nil>",
		},
		{
			name:  "minimal response keeps what is held",
			reply: reply{ContentType: js, Body: `{"client_name":"n"}`},
			want: func(base string) *Registration {
				r := held(base)
				r.ClientName = "n"
				return r
			},
			wantErr: "<nil>",
		},
		{
			name:  "new secret without expiry is returned with the error",
			reply: reply{ContentType: js, Body: `{"client_id":"c1","client_secret":"new-secret","registration_access_token":"new-rat"}`},
			want: func(base string) *Registration {
				return &Registration{ClientID: "c1", ClientSecret: "new-secret", ClientIDIssuedAt: 1700000000, RegistrationAccessToken: "new-rat", RegistrationClientURI: base + "/register/c1"}
			},
			wantErr: "client: read: incomplete registration response: the server's response lacks client_secret_expires_at (REQUIRED when client_secret is issued, RFC 7591 §3.2.1); the server may have created the client anyway",
		},
		{
			name:    "another client's registration is refused",
			reply:   reply{ContentType: js, Body: `{"client_id":"c2"}`},
			wantErr: `client: read: the server answered for client_id "c2", not "c1": refusing the response`,
		},
		{
			name:    "401 invalid_token",
			reply:   reply{Status: 401, Header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}},
			wantErr: "client: read: the server answered 401 Unauthorized with error invalid_token: the registration access token is invalid, was rotated, or the client no longer exists: use the registration access token returned by the latest register, read or update",
		},
		{
			name:    "201 is not a read's answer",
			reply:   reply{Status: 201, ContentType: js, Body: `{"client_id":"c1"}`},
			wantErr: "client: read: the server answered 201 Created",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCannedServer(t, map[string]reply{"/register/c1": tc.reply})
			got, err := new(Client).Read(context.Background(), held(s.URL))
			var want *Registration
			if tc.want != nil {
				want = tc.want(s.URL)
			}
			check(t, "registration", got, want)
			check(t, "error", errString(err), tc.wantErr)
		})
	}
}

func TestManagementPreconditions(t *testing.T) {
	var c Client
	ctx := context.Background()
	tests := []struct {
		name    string
		reg     *Registration
		wantErr string
	}{
		{"nil", nil, "client: read: no registration given"},
		{"no uri", &Registration{ClientID: "c", RegistrationAccessToken: "t"}, "client: read: the registration has no registration_client_uri: the server did not offer RFC 7592 management for this client"},
		{"no token", &Registration{ClientID: "c", RegistrationClientURI: "https://as.example/r/c"}, "client: read: the registration has no registration_access_token: RFC 7592 calls need the token from the latest register, read or update"},
		{"plain http to a remote host", &Registration{ClientID: "c", RegistrationAccessToken: "t", RegistrationClientURI: "http://as.example/r/c"}, "client: read: registration client URI: refusing plain http to as.example: tokens and secrets would travel unencrypted; use https (http is allowed only for loopback hosts, or with InsecureAllowHTTP)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Read(ctx, tc.reg)
			check(t, "read", errString(err), tc.wantErr)
			err = c.Delete(ctx, tc.reg)
			check(t, "delete", errString(err), strings.Replace(tc.wantErr, "client: read:", "client: delete:", 1))
			_, err = c.Update(ctx, tc.reg, Metadata{})
			want := strings.Replace(tc.wantErr, "client: read:", "client: update:", 1)
			if tc.reg == nil {
				want = "client: update: the registration has no client_id"
			}
			check(t, "update", errString(err), want)
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name    string
		reply   reply
		opts    []DeleteOption
		wantErr string
	}{
		{"204", reply{Status: 204}, nil, "<nil>"},
		{"200", reply{Status: 200}, nil, "<nil>"},
		{"401 is an error by default", reply{Status: 401, Header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}}, nil,
			"client: delete: the server answered 401 Unauthorized with error invalid_token: the registration access token is invalid, was rotated, or the client no longer exists: use the registration access token returned by the latest register, read or update"},
		{"401 treated as deleted", reply{Status: 401}, []DeleteOption{TreatUnauthorizedAsDeleted()}, "<nil>"},
		{"403 stays an error with the option", reply{Status: 403}, []DeleteOption{TreatUnauthorizedAsDeleted()},
			"client: delete: the server answered 403 Forbidden: the token is not allowed to do this: check its scope (dcr) and who it was issued to"},
		{"404", reply{Status: 404}, nil, "client: delete: the server answered 404 Not Found: there is nothing at the registration client URI: the client may have been deleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newCannedServer(t, map[string]reply{"/register/c1": tc.reply})
			reg := &Registration{ClientID: "c1", RegistrationAccessToken: "rat", RegistrationClientURI: s.URL + "/register/c1"}
			err := new(Client).Delete(context.Background(), reg, tc.opts...)
			check(t, "error", errString(err), tc.wantErr)
			check(t, "requests", s.requests(), []string{"DELETE /register/c1"})
		})
	}
}

// TestUnknownFieldsRejected: a server that refuses unknown members answers 400, and the
// same metadata without them passes.
func TestUnknownFieldsRejected(t *testing.T) {
	as := newFakeAS(t, fakeOpts{rejectUnknown: true})
	md := Metadata{ClientName: "n", Extra: map[string]json.RawMessage{"x_vendor": json.RawMessage(`1`)}}
	_, err := new(Client).Register(context.Background(), as.endpoint(), "", md)
	if !errors.Is(err, ErrInvalidClientMetadata) {
		t.Fatalf("error %v, want ErrInvalidClientMetadata", err)
	}
	md.Extra = nil
	if _, err := new(Client).Register(context.Background(), as.endpoint(), "", md); err != nil {
		t.Fatal(err)
	}
}

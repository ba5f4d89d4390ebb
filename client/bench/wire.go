package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dcrctl/dcrctl/client"
)

// The measured requests are sent by this lean path rather than through client.Client and
// flows: the SDK validates every response in depth (unknown members, language tags, several
// decoding passes), which costs the generator more CPU than a fast server spends answering,
// and a load generator must not be the bottleneck. The requests are the same on the wire
// (RFC 6749 §4.4 with client_secret_basic or client_secret_post, RFC 7591 §3.1, RFC 7592
// §2.1 and §2.3); responses are decoded only for what the next step needs. Discovery and the
// cleanup use the SDK.

// maxBody bounds every response body read here.
const maxBody = 1 << 20

// wireError is a failed request: an HTTP status other than the expected one, with the OAuth
// error code from the JSON body or the WWW-Authenticate header when the server sent one. It
// never holds the body (it may echo what was sent).
type wireError struct {
	op     string
	status int
	code   string
}

func (e *wireError) Error() string {
	s := fmt.Sprintf("bench: %s: the server answered %d %s", e.op, e.status, http.StatusText(e.status))
	if e.code != "" {
		s += " with error " + e.code
	}
	return s
}

// answer is the part of a token or client information response the steps use.
type answer struct {
	Error                   string `json:"error"`
	AccessToken             string `json:"access_token"`
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
}

// send does one request and decodes the answer; want is the success status.
func send(ctx context.Context, hc *http.Client, op string, req *http.Request, want int) (*answer, error) {
	res, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", op, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("bench: %s: reading the answer: %w", op, err)
	}
	var a answer
	if len(body) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(body, &a); err != nil && res.StatusCode == want {
			return nil, fmt.Errorf("bench: %s: the answer is not the JSON object expected: %v", op, err)
		}
	}
	if res.StatusCode != want && !(want == http.StatusCreated && res.StatusCode == http.StatusOK) {
		code := a.Error
		if code == "" {
			code = challengeError(res.Header.Get("WWW-Authenticate"))
		}
		return nil, &wireError{op: op, status: res.StatusCode, code: code}
	}
	return &a, nil
}

// challengeError returns the error parameter of an RFC 6750 §3 Bearer challenge.
func challengeError(h string) string {
	_, after, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(after, `"`)
	return code
}

// tokenRequest is a client credentials token request (RFC 6749 §4.4.2).
func tokenRequest(endpoint, id, secret, method string, scopes []string) (*http.Request, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if method == "client_secret_post" {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method != "client_secret_post" {
		// RFC 6749 §2.3.1: client_secret_basic form-encodes both parts.
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return req, nil
}

// bearerRequest is a request with an RFC 6750 §2.1 Bearer token ("" = none).
func bearerRequest(method, target, token string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// checkURL applies the SDK's rule for plain http (only to loopback hosts, unless
// InsecureAllowHTTP) to an endpoint found in discovery or a registration response.
func (c *Config) checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("bench: the %s %q is not an absolute URL", what, raw)
	case u.Scheme == "https", u.Scheme == "http" && (c.InsecureAllowHTTP || client.IsLoopback(u.Hostname())):
		return nil
	}
	return fmt.Errorf("bench: refusing the %s %s: plain http to a host that is not loopback would carry tokens and secrets unencrypted", what, u.Redacted())
}

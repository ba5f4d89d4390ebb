package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DeviceFlow gets a token with the device authorization grant (RFC 8628), for a machine
// without a browser: it shows a user code and a verification URI, the user approves on another
// device, and DeviceFlow polls the token endpoint until then.
//
// Its zero value needs at least Issuer (or DeviceAuthURL and TokenURL) and ClientID.
type DeviceFlow struct {
	// Issuer is discovered for the endpoints when DeviceAuthURL or TokenURL is empty.
	Issuer        string
	DeviceAuthURL string // device_authorization_endpoint (RFC 8628 §4)
	TokenURL      string

	ClientID     string
	ClientSecret string // empty for a public client
	// AuthMethod is the client's token_endpoint_auth_method; see ClientCredentials.AuthMethod.
	AuthMethod string
	// Scopes requested; nil means [DefaultScopes], an empty non-nil slice requests none.
	Scopes []string
	// Resource, if set, is the resource indicator (RFC 8707) sent with the authorization and
	// token requests: the token is for that resource (an MCP server, say).
	Resource string

	// Status receives the instructions for the user (RFC 8628 §3.3); nil means io.Discard.
	Status io.Writer
	// Notify, when set, is called with the authorization once the instructions are shown,
	// for example to open VerificationURIComplete or show it as a QR code.
	Notify func(DeviceAuthorization)

	// HTTPClient makes every request; nil means [client.NewHTTPClient]'s. A client without a
	// CheckRedirect of its own gets [client.CheckRedirect]'s policy (on a copy).
	HTTPClient *http.Client
	// Now and Sleep are the clock; nil means time.Now and a timer that ctx cancels.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// DeviceAuthorization is the device authorization response (RFC 8628 §3.2), less the
// device_code, which only the poller needs.
type DeviceAuthorization struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // "" when the server sent none
	ExpiresIn               int64  // seconds
	Interval                int64  // seconds between polls; 5 when the server sent none
	Expiry                  time.Time
}

const (
	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code" // RFC 8628 §3.4
	// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
	defaultDeviceInterval = 5 * time.Second
	// RFC 8628 §3.5: on slow_down "the interval MUST be increased by 5 seconds for this and
	// all subsequent requests".
	slowDownStep = 5 * time.Second
	// maxDevicePolls bounds the polling loop in count, on top of the code's expiry in time.
	maxDevicePolls = 10000
	// maxConnErrors is how many failed polls in a row (network errors) end the flow.
	maxConnErrors = 5
)

// Token runs the flow. It returns an *Error for access_denied, expired_token and any other
// error from the server, a *TimeoutError when the code expires unapproved, and an error
// wrapping context.Canceled when ctx is canceled.
func (d DeviceFlow) Token(ctx context.Context) (*Token, error) {
	if d.ClientID == "" {
		return nil, fmt.Errorf("flows: %s: no client id: give the client's id (--client-id)", deviceOp)
	}
	run := deviceRun{d: d, hc: httpClient(d.HTTPClient), scopes: requestedScopes(d.Scopes), now: d.Now, sleep: d.Sleep}
	if run.now == nil {
		run.now = time.Now
	}
	if run.sleep == nil {
		run.sleep = sleepCtx
	}
	var err error
	run.ep, err = resolve(ctx, d.HTTPClient, deviceOp, d.Issuer, endpoints{device: d.DeviceAuthURL, token: d.TokenURL},
		"device_authorization_endpoint", "token_endpoint")
	if err != nil {
		return nil, err
	}
	_, method, err := authStyle(d.AuthMethod, d.ClientSecret, run.ep.authMethod)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", deviceOp, err)
	}
	run.auth = clientAuth{id: d.ClientID, secret: d.ClientSecret, method: method}
	a, deviceCode, wait, err := run.authorize(ctx)
	if err != nil {
		return nil, err
	}
	status := d.Status
	if status == nil {
		status = io.Discard
	}
	a.show(status)
	if d.Notify != nil {
		d.Notify(a)
	}
	return run.poll(ctx, deviceCode, wait, a.Expiry)
}

const deviceOp = "device"

// deviceRun is what the steps of one DeviceFlow.Token share.
type deviceRun struct {
	d      DeviceFlow
	hc     *http.Client
	ep     endpoints
	auth   clientAuth
	scopes []string
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

// authorize makes the device authorization request (RFC 8628 §3.1) and checks the response
// (§3.2); wait is the first polling interval.
func (r deviceRun) authorize(ctx context.Context) (a DeviceAuthorization, deviceCode string, wait time.Duration, err error) {
	start := r.now()
	var dar struct {
		DeviceCode              string      `json:"device_code"`
		UserCode                string      `json:"user_code"`
		VerificationURI         string      `json:"verification_uri"`
		VerificationURIComplete string      `json:"verification_uri_complete"`
		ExpiresIn               json.Number `json:"expires_in"`
		Interval                json.Number `json:"interval"`
	}
	daForm := scopeForm(r.scopes)
	if r.d.Resource != "" {
		daForm.Set("resource", r.d.Resource)
	}
	if err := postForm(ctx, r.hc, "device authorization", r.ep.device, r.auth, daForm, &dar); err != nil {
		return a, "", 0, err
	}
	expiresIn, _ := dar.ExpiresIn.Int64()
	interval, _ := dar.Interval.Int64()
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"device_code", dar.DeviceCode}, {"user_code", dar.UserCode}, {"verification_uri", dar.VerificationURI},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if expiresIn <= 0 {
		missing = append(missing, "expires_in")
	}
	if len(missing) > 0 {
		return a, "", 0, fmt.Errorf("flows: device authorization: the response lacks %s, which RFC 8628 §3.2 requires: the server is not conforming", strings.Join(missing, ", "))
	}
	a = DeviceAuthorization{
		UserCode:                dar.UserCode,
		VerificationURI:         dar.VerificationURI,
		VerificationURIComplete: dar.VerificationURIComplete,
		ExpiresIn:               expiresIn,
		Interval:                interval,
		Expiry:                  start.Add(time.Duration(expiresIn) * time.Second),
	}
	wait = time.Duration(interval) * time.Second
	if interval <= 0 || interval > 3600 {
		wait, a.Interval = defaultDeviceInterval, int64(defaultDeviceInterval/time.Second)
	}
	return a, dar.DeviceCode, wait, nil
}

// show writes the user code and the verification URI (RFC 8628 §3.3).
func (a DeviceAuthorization) show(w io.Writer) {
	fmt.Fprintf(w, "To log in, visit:\n\n  %s\n\nand enter the code:  %s\n", a.VerificationURI, a.UserCode)
	if a.VerificationURIComplete != "" {
		fmt.Fprintf(w, "\nor open this URL, which includes the code:\n\n  %s\n", a.VerificationURIComplete)
	}
	fmt.Fprintf(w, "\nThe code expires in %s. Waiting for approval…\n", time.Duration(a.ExpiresIn)*time.Second)
}

// poll asks the token endpoint for the token until the user decides or the code expires
// (RFC 8628 §3.4, §3.5).
func (r deviceRun) poll(ctx context.Context, deviceCode string, wait time.Duration, expiry time.Time) (*Token, error) {
	form := url.Values{"grant_type": {grantDeviceCode}, "device_code": {deviceCode}}
	if r.d.Resource != "" {
		form.Set("resource", r.d.Resource)
	}
	connErrors := 0
	for range maxDevicePolls {
		if err := r.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("flows: %s: %w", deviceOp, err)
		}
		if !r.now().Before(expiry) {
			return nil, &TimeoutError{Op: deviceOp}
		}
		var tr tokenResponse
		err := postForm(ctx, r.hc, "device token", r.ep.token, r.auth, form, &tr)
		var pe *Error
		switch {
		case err == nil:
			t, err := tr.token(r.scopes, r.now())
			if err == nil {
				err = checkIDToken(ctx, r.hc, "device token", t, r.ep, r.d.ClientID, "")
			}
			if err != nil {
				return nil, err
			}
			return t, nil
		case errors.As(err, &pe) && pe.Code == "authorization_pending":
			connErrors = 0
		case errors.As(err, &pe) && pe.Code == "slow_down":
			connErrors = 0
			wait += slowDownStep
		case errors.As(err, &pe):
			return nil, err // access_denied, expired_token, or anything else: final
		case ctx.Err() != nil:
			return nil, fmt.Errorf("flows: %s: %w", deviceOp, ctx.Err())
		default:
			// RFC 8628 §3.5: "on encountering a connection timeout, clients MUST
			// unilaterally reduce their polling frequency before retrying."
			connErrors++
			if connErrors >= maxConnErrors {
				return nil, err
			}
			wait *= 2
		}
	}
	return nil, &TimeoutError{Op: deviceOp}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clientAuth authenticates a request this package builds itself (RFC 6749 §2.3.1).
type clientAuth struct{ id, secret, method string }

func (c clientAuth) apply(req *http.Request, form url.Values) {
	switch c.method {
	case AuthClientSecretBasic:
		// RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	case AuthClientSecretPost:
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	default: // none: RFC 8628 §3.1, RFC 6749 §3.2.1 — a public client sends its client_id
		form.Set("client_id", c.id)
	}
}

// postForm POSTs a form to endpoint and decodes a 200 JSON answer into out; an error answer
// (RFC 6749 §5.2) becomes an *Error with the given op.
func postForm(ctx context.Context, hc *http.Client, op, endpoint string, auth clientAuth, form url.Values, out any) error {
	form = cloneValues(form)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return fmt.Errorf("flows: %s: bad endpoint URL: %w", op, err)
	}
	auth.apply(req, form)
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("flows: %s: %w", op, err)
	}
	defer drain(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("flows: %s: reading the response: %w", op, err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		e := &Error{Op: op, StatusCode: resp.StatusCode}
		var ej struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
			ErrorURI         string `json:"error_uri"`
		}
		if json.Unmarshal(data, &ej) == nil {
			e.Code, e.Description, e.URI = oneLine(ej.Error, 64), oneLine(ej.ErrorDescription, 300), oneLine(ej.ErrorURI, 300)
		}
		return fmt.Errorf("flows: %s: %w", op, e)
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("flows: %s: the server answered 200 with %q, not JSON: check the endpoint URL", op, mt)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("flows: %s: the server's JSON does not parse: %w", op, err)
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// tokenResponse is a successful token response (RFC 6749 §5.1) as this package decodes it.
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
	Scope        string      `json:"scope"`
	IDToken      string      `json:"id_token"`
}

func (r tokenResponse) token(requested []string, now time.Time) (*Token, error) {
	if r.AccessToken == "" {
		return nil, fmt.Errorf("flows: device token: %w", errNoAccessToken)
	}
	t := &Token{
		AccessToken:  r.AccessToken,
		TokenType:    r.TokenType,
		RefreshToken: r.RefreshToken,
		Scope:        r.Scope,
		IDToken:      r.IDToken,
	}
	if n, err := strconv.ParseInt(r.ExpiresIn.String(), 10, 32); err == nil && n > 0 {
		t.ExpiresIn = n
		t.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	fillDefaults(t, requested)
	return t, nil
}

// scopeForm is the device authorization request's form: scope is OPTIONAL (RFC 8628 §3.1),
// so it is left out when no scope is requested.
func scopeForm(scopes []string) url.Values {
	if len(scopes) == 0 {
		return url.Values{}
	}
	return url.Values{"scope": {strings.Join(scopes, " ")}}
}

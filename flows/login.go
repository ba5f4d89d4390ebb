package flows

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultLoginTimeout bounds a browser login whose Timeout is zero.
const DefaultLoginTimeout = 5 * time.Minute

// CallbackPath is the path of the default loopback redirect URI,
// http://127.0.0.1:PORT/callback.
const CallbackPath = "/callback"

// BrowserLogin gets a token with the authorization code grant (RFC 6749 §4.1) and PKCE S256
// (RFC 7636) in the system browser, receiving the code on a loopback redirect URI
// (RFC 8252 §7.3). Logging in as a newly registered client is the same flow with that client's
// id (and secret, when it is confidential); the browser's single sign-on session makes it
// silent.
//
// Its zero value needs at least Issuer (or AuthURL and TokenURL) and ClientID.
type BrowserLogin struct {
	// Issuer is discovered for the endpoints when AuthURL or TokenURL is empty. When known,
	// an iss parameter in the redirect must equal it (RFC 9207 §2.4).
	Issuer   string
	AuthURL  string
	TokenURL string

	ClientID string
	// ClientSecret is empty for a public client (the usual native app, RFC 8252 §8.4).
	ClientSecret string
	// AuthMethod is the client's token_endpoint_auth_method; see ClientCredentials.AuthMethod.
	AuthMethod string
	// Scopes requested; nil means [DefaultScopes], an empty non-nil slice requests none.
	Scopes []string
	// Resource, if set, is the resource indicator (RFC 8707) sent with the authorization and
	// token requests: the token is for that resource (an MCP server, say).
	Resource string

	// RedirectURI is the loopback redirect URI registered for the client that the login
	// uses: plain http on 127.0.0.1 (or another 127.0.0.0/8 address), [::1] or localhost,
	// with any path, with or without a port (RFC 8252 §7.3). "" means
	// http://127.0.0.1/callback. Choose one from the client's redirect_uris with
	// [PickLoopbackRedirect]. For localhost the listener binds 127.0.0.1 and, where it can,
	// [::1] on the same port.
	RedirectURI string
	// CallbackPort is the loopback port to listen on. 0 means the port of RedirectURI when it
	// has one (so that servers that match redirect URIs exactly, port included, against
	// RFC 8252 §7.3, accept it), else a free one.
	CallbackPort int
	// ForceLogin sends prompt=login so that the server asks for the password even when the
	// browser has a session (OpenID Connect Core §3.1.2.1). By default the session is reused.
	ForceLogin bool
	// NoBrowser only prints the URL; the user opens it.
	NoBrowser bool
	// OpenURL opens the authorization URL; nil means Browser{}.Open. It is called only once
	// the listener is up, and only with an http or https URL. If it fails, the login goes on:
	// the URL is on Status for the user to open.
	OpenURL func(url string) error
	// Timeout bounds the whole login; 0 means DefaultLoginTimeout.
	Timeout time.Duration
	// Status receives what the user must read: the URL, and a warning if the browser could
	// not be opened. nil means io.Discard.
	Status io.Writer
	// HTTPClient makes the requests to the server (discovery, code exchange); nil means
	// [client.NewHTTPClient]'s. A client without a CheckRedirect of its own gets
	// [client.CheckRedirect]'s policy (on a copy). The browser does not use it.
	HTTPClient *http.Client
	// Now is the clock for Token.Expiry; nil means time.Now.
	Now func() time.Time
}

// callbackResult is what the loopback listener learned from the one redirect that counts.
type callbackResult struct {
	code string
	err  error
}

// Token runs the login: it listens on 127.0.0.1, opens the authorization URL, waits for the
// redirect to /callback, checks its state, and redeems the code with the PKCE verifier. The
// listener is shut down before Token returns, whatever happens. It ends with a *TimeoutError
// after Timeout, and with an error wrapping context.Canceled when ctx is canceled (Ctrl-C).
func (b BrowserLogin) Token(ctx context.Context) (*Token, error) {
	const op = "login"
	if b.ClientID == "" {
		return nil, fmt.Errorf("flows: %s: no client id: give the client's id (--client-id)", op)
	}
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	status := b.Status
	if status == nil {
		status = io.Discard
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, &TimeoutError{Op: op, After: timeout})
	defer cancel()

	ep, err := resolve(ctx, b.HTTPClient, op, b.Issuer, endpoints{auth: b.AuthURL, token: b.TokenURL},
		"authorization_endpoint", "token_endpoint")
	if err != nil {
		return nil, loginCtxErr(ctx, err)
	}
	if err := checkOpenable(ep.auth); err != nil {
		return nil, fmt.Errorf("flows: %s: the authorization endpoint %w", op, err)
	}
	style, _, err := authStyle(b.AuthMethod, b.ClientSecret, ep.authMethod)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}
	scopes := requestedScopes(b.Scopes)

	lb, err := listenLoopback(b.RedirectURI, b.CallbackPort)
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}
	redirect := lb.redirect

	cfg := oauth2.Config{
		ClientID:     b.ClientID,
		ClientSecret: b.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: ep.auth, TokenURL: ep.token, AuthStyle: style},
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
	ar, err := b.authRequest(&cfg)
	if err != nil {
		lb.close()
		return nil, fmt.Errorf("flows: %s: %w", op, err)
	}

	results := make(chan callbackResult, 1)
	defer serveCallback(ctx, lb, &callbackHandler{path: lb.path, state: ar.state, issuer: ep.issuer, issRequired: ep.issRequired, results: results})()

	// The listener is up: only now show and open the URL.
	res, err := b.await(ctx, ar.url, results, status)
	if err != nil {
		return nil, lb.explain(loginCtxErr(ctx, fmt.Errorf("flows: %s: %w", op, err)))
	}
	if res.err != nil {
		return nil, lb.explain(res.err)
	}
	exchange := []oauth2.AuthCodeOption{oauth2.VerifierOption(ar.verifier)}
	if b.Resource != "" {
		exchange = append(exchange, oauth2.SetAuthURLParam("resource", b.Resource)) // RFC 8707 §2.2
	}
	ot, err := cfg.Exchange(withHTTPClient(ctx, b.HTTPClient), res.code, exchange...)
	if err != nil {
		return nil, lb.explain(loginCtxErr(ctx, tokenError("code exchange", err)))
	}
	t, err := fromOAuth2(ot, scopes, now(b.Now))
	if err != nil {
		return nil, fmt.Errorf("flows: code exchange: %w", err)
	}
	if err := checkIDToken(ctx, httpClient(b.HTTPClient), "code exchange", t, ep, b.ClientID, ar.nonce); err != nil {
		return nil, err
	}
	return t, nil
}

// authorization is one authorization request (RFC 6749 §4.1.1) and what the rest of the
// login needs of it.
type authorization struct {
	state, verifier, nonce, url string
}

// authRequest builds the authorization request: state, PKCE S256, a nonce with openid,
// prompt=login when forced, and the resource indicator.
func (b BrowserLogin) authRequest(cfg *oauth2.Config) (authorization, error) {
	var ar authorization
	var err error
	if ar.state, err = randomState(); err != nil {
		return ar, err
	}
	ar.verifier = oauth2.GenerateVerifier() // RFC 7636 §4.1: 32 random octets, base64url
	// RFC 8252 §8.1: "Public native app clients MUST implement ... PKCE"; RFC 7636 §4.2:
	// S256 is used whenever the client can (it always can).
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(ar.verifier)}
	// OpenID Connect Core §3.1.2.1: a nonce binds the ID token to this login; it must come
	// back in the ID token unchanged.
	if slices.Contains(cfg.Scopes, "openid") {
		if ar.nonce, err = randomState(); err != nil {
			return ar, err
		}
		opts = append(opts, oauth2.SetAuthURLParam("nonce", ar.nonce))
	}
	if b.ForceLogin {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if b.Resource != "" {
		opts = append(opts, oauth2.SetAuthURLParam("resource", b.Resource))
	}
	ar.url = cfg.AuthCodeURL(ar.state, opts...)
	return ar, nil
}

// serveCallback serves h on the loopback listeners until the returned stop is called, which
// always shuts them down: Shutdown lets the "you can close this window" page finish, then
// Close drops whatever is left (a browser's idle keep-alive connection).
func serveCallback(ctx context.Context, lb *loopback, h http.Handler) (stop func()) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Connection-level noise (a browser dropping a connection) is not the user's business.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		var wg sync.WaitGroup
		for _, ln := range lb.listeners {
			wg.Go(func() { _ = srv.Serve(ln) }) // returns http.ErrServerClosed after Shutdown
		}
		wg.Wait()
	}()
	return func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		_ = srv.Close()
		<-served
	}
}

// await shows authURL, opens it unless NoBrowser, and waits for the callback's result; the
// error is ctx's when it ends first.
func (b BrowserLogin) await(ctx context.Context, authURL string, results <-chan callbackResult, status io.Writer) (callbackResult, error) {
	fmt.Fprintf(status, "Open this URL in your browser to log in:\n\n  %s\n\n", authURL)
	opened := make(chan error, 1)
	if !b.NoBrowser {
		open := b.OpenURL
		if open == nil {
			open = Browser{}.Open
		}
		// The opener may block (a launcher, or a browser that runs in the foreground): it runs
		// on its own, and its result is reported from here.
		go func() { opened <- open(authURL) }()
	}
	for {
		select {
		case err := <-opened:
			if err != nil {
				fmt.Fprintf(status, "Could not open a browser (%v); open the URL above yourself.\n", err)
			} else {
				fmt.Fprintln(status, "Waiting for the login in the browser…")
			}
		case res := <-results:
			return res, nil
		case <-ctx.Done():
			return callbackResult{}, ctx.Err()
		}
	}
}

// loginCtxErr turns the end of the login's own time limit into its *TimeoutError; every other
// error, including one wrapping context.Canceled after Ctrl-C, is returned as it is.
func loginCtxErr(ctx context.Context, err error) error {
	var te *TimeoutError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &te) {
		return te
	}
	return err
}

// randomState returns 32 random bytes, base64url: an unguessable state (RFC 6749 §10.12).
func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("no randomness for the state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// callbackHandler serves the loopback redirect URI.
type callbackHandler struct {
	path        string // the redirect URI's path
	state       string
	issuer      string
	issRequired bool
	results     chan<- callbackResult // capacity 1: the first real callback wins
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	// Only a GET on the exact path is the redirect. Anything else — /favicon.ico, a HEAD
	// probe, a link preview — is answered and ignored.
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// A speculative prefetch must not consume the code; a non-2xx answer makes the browser
	// discard it and load the page for real when the user gets there.
	if r.Header.Get("Sec-Purpose") != "" || r.Header.Get("Purpose") == "prefetch" || r.Header.Get("X-Moz") == "prefetch" {
		http.Error(w, "prefetch ignored", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	if !q.Has("state") && !q.Has("code") && !q.Has("error") {
		page(w, http.StatusBadRequest, "Not a login response", "This address receives the answer to a dcrctl login. There is nothing to see here.")
		return
	}
	res := h.check(q)
	select {
	case h.results <- res:
	default:
		page(w, http.StatusConflict, "Login already finished", "This login has already received its answer. You can close this window.")
		return
	}
	switch {
	case res.err == nil:
		page(w, http.StatusOK, "Logged in", "dcrctl received the login. You can close this window and return to the terminal.")
	default:
		page(w, http.StatusBadRequest, "Login failed", "dcrctl could not complete the login: "+res.err.Error()+" You can close this window.")
	}
}

// check validates the authorization response (RFC 6749 §4.1.2, §4.1.2.1).
func (h *callbackHandler) check(q url.Values) callbackResult {
	// RFC 6749 §10.12: the client MUST verify the state; compared in constant time. An
	// error response carries the state too (§4.1.2.1), so it is checked first.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(h.state)) != 1 {
		return callbackResult{err: ErrStateMismatch}
	}
	// RFC 9207 §2.4: when iss is present, it MUST be compared with the issuer; a server that
	// advertises authorization_response_iss_parameter_supported must send it.
	if q.Has("iss") && h.issuer != "" && q.Get("iss") != h.issuer {
		return callbackResult{err: ErrIssuerMismatch}
	}
	if !q.Has("iss") && h.issRequired {
		return callbackResult{err: ErrIssuerMissing}
	}
	if code := q.Get("error"); code != "" {
		return callbackResult{err: fmt.Errorf("flows: login: %w", &Error{Op: "login", Code: oneLine(code, 64),
			Description: oneLine(q.Get("error_description"), 300), URI: oneLine(q.Get("error_uri"), 300)})}
	}
	code := q.Get("code")
	if code == "" {
		return callbackResult{err: errors.New("flows: login: the browser's redirect has neither a code nor an error (RFC 6749 §4.1.2): the server is not conforming; try again")}
	}
	return callbackResult{code: code}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dcrctl: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

// page writes the small HTML page the browser shows after the redirect.
func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct{ Title, Text string }{title, text})
}

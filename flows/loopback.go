package flows

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// loopback is the listener of a browser login and the redirect URI it answers.
type loopback struct {
	listeners []net.Listener
	redirect  string // the redirect_uri sent, port included
	path      string
	// registered is the redirect URI as registered ("" when the caller named none, and the
	// default was used); hasPort says whether it names a port.
	registered string
	hasPort    bool
}

// parseLoopback checks that raw is a loopback redirect URI (RFC 8252 §7.3): plain http, a
// loopback host, no fragment. It returns the host (without brackets), the port ("" when none)
// and the path ("/" when empty).
func parseLoopback(raw string) (host, port, path string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("redirect URI %q: %w", raw, err)
	}
	host = u.Hostname()
	ip := net.ParseIP(host)
	if u.Scheme != "http" || u.Fragment != "" || u.User != nil || !(strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()) {
		return "", "", "", fmt.Errorf("redirect URI %q is not a loopback redirect URI (http://127.0.0.1, http://[::1] or http://localhost, any port and path; RFC 8252 §7.3)", raw)
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		return "", "", "", fmt.Errorf("redirect URI %q has a query: the loopback listener cannot keep it", raw)
	}
	return host, u.Port(), path, nil
}

// PickLoopbackRedirect chooses, among a client's registered redirect URIs, the one a browser
// login should use: the first loopback one without a port (RFC 8252 §7.3 lets the port vary),
// else the first loopback one with a port. Any loopback host (127.0.0.1, [::1], localhost)
// and any path will do. It returns an error naming the URIs when none is a loopback URI.
func PickLoopbackRedirect(uris []string) (string, error) {
	withPort := ""
	for _, s := range uris {
		_, port, _, err := parseLoopback(s)
		if err != nil {
			continue
		}
		if port == "" {
			return s, nil
		}
		if withPort == "" {
			withPort = s
		}
	}
	if withPort != "" {
		return withPort, nil
	}
	return "", fmt.Errorf("none of the client's redirect URIs (%s) is a loopback URI such as http://127.0.0.1/callback, where a browser login can receive the code: register one", strings.Join(uris, ", "))
}

// listenLoopback listens for the redirect to registered ("" means http://127.0.0.1/callback)
// on port, or on the registered port when port is 0 and it has one, or on a free port.
func listenLoopback(registered string, port int) (*loopback, error) {
	given := registered
	if registered == "" {
		registered = "http://127.0.0.1" + CallbackPath
	}
	host, regPort, path, err := parseLoopback(registered)
	if err != nil {
		return nil, err
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("callback port %d is not a TCP port: use 1-65535, or 0 for the registered or any free port", port)
	}
	lb := &loopback{path: path, registered: given, hasPort: regPort != ""}
	if port == 0 && regPort != "" {
		if port, err = strconv.Atoi(regPort); err != nil {
			return nil, fmt.Errorf("redirect URI %q: bad port", registered)
		}
	}
	// RFC 8252 §8.3: listen on the loopback interface only. localhost may resolve to either
	// address family in the browser: both are served, on one port.
	bind := host
	if strings.EqualFold(host, "localhost") {
		bind = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s port %d for the browser's redirect: %w (free the port, or choose another callback port)", bind, port, err)
	}
	lb.listeners = append(lb.listeners, ln)
	actual := ln.Addr().(*net.TCPAddr).Port
	if bind != host {
		if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(actual))); err == nil {
			lb.listeners = append(lb.listeners, ln6)
		}
	}
	lb.redirect = "http://" + net.JoinHostPort(host, strconv.Itoa(actual)) + path
	return lb, nil
}

func (lb *loopback) close() {
	for _, ln := range lb.listeners {
		_ = ln.Close()
	}
}

// RedirectURIError wraps a login failure that may come from the server refusing the
// redirect URI: an error answer naming redirect_uri, or a login that never came back (the
// server showed its error in the browser, as RFC 6749 §4.1.2.1 has it do). Many servers,
// against RFC 8252 §7.3, match a loopback redirect URI's port exactly; when the registered
// URI has no port, no port the login picks can match them.
type RedirectURIError struct {
	// RedirectURI is the redirect_uri the login sent; Registered the one it was based on.
	RedirectURI, Registered string
	// RegisteredHasPort says whether Registered names a port.
	RegisteredHasPort bool
	// Err is the failure.
	Err error
}

// Error says what failed and, when the registered URI has no port, how to give it one.
func (e *RedirectURIError) Error() string {
	if e.RegisteredHasPort {
		return fmt.Sprintf("%v (the login sent redirect_uri %s; if the server refused it, check that it is registered for the client exactly)", e.Err, e.RedirectURI)
	}
	return fmt.Sprintf("%v (the login sent redirect_uri %s, but the registered %s has no port: if the server refused the redirect URI, it may require the exact port, against RFC 8252 §7.3; register a redirect URI with a fixed port, such as http://127.0.0.1:8765%s, and log in on that port)", e.Err, e.RedirectURI, e.Registered, pathOf(e.Registered))
}

// Unwrap returns Err.
func (e *RedirectURIError) Unwrap() error { return e.Err }

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return u.Path
	}
	return CallbackPath
}

// explain wraps err in a *RedirectURIError when it may come from a refused redirect URI: a
// login timeout, or an error from the server that names the redirect URI. Only a login given
// its registered RedirectURI knows enough to say so.
func (lb *loopback) explain(err error) error {
	var te *TimeoutError
	var pe *Error
	switch {
	case lb.registered == "":
		return err
	case errors.As(err, &te):
	case errors.As(err, &pe) && (strings.Contains(strings.ToLower(pe.Description), "redirect") || pe.Code == "invalid_redirect_uri"):
	default:
		return err
	}
	return &RedirectURIError{RedirectURI: lb.redirect, Registered: lb.registered, RegisteredHasPort: lb.hasPort, Err: err}
}

package testserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Device authorization states.
const (
	devicePending  = 0
	deviceApproved = 1
	deviceDenied   = 2
	deviceDone     = 3
)

// userCodeAlphabet has no vowels (no words) and no look-alikes (RFC 8628 §6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// normalizeUserCode uppercases and drops everything outside the alphabet (RFC 8628 §6.1:
// the server should be case-insensitive and ignore punctuation).
func normalizeUserCode(s string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(s) {
		if strings.ContainsRune(userCodeAlphabet, c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func (s *Server) newUserCode() string {
	out := make([]byte, 0, 9)
	var b [1]byte
	for len(out) < 9 {
		if len(out) == 4 {
			out = append(out, '-')
			continue
		}
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			panic("testserver: random source failed: " + err.Error())
		}
		if int(b[0]) >= 256/len(userCodeAlphabet)*len(userCodeAlphabet) {
			continue // rejection sampling: no bias
		}
		out = append(out, userCodeAlphabet[int(b[0])%len(userCodeAlphabet)])
	}
	return string(out)
}

// deviceAuthorization is the device authorization endpoint, RFC 8628 §3.1–3.2.
func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	form, c, err := s.clientForm(w, r)
	if err != nil {
		return nil, err
	}
	if !c.md.has(grantDevice) {
		return nil, badRequest("unauthorized_client", "client %q is not registered for the device grant: add %s to its grant_types", c.ID, grantDevice)
	}
	scope, err := s.grantScope(c, form.Get("scope"))
	if err != nil {
		return nil, err
	}
	dc := s.secret()
	now := s.now()
	interval := max(int64(s.lt.DevicePollInterval/time.Second), 1) // whole seconds (RFC 8628 §3.2)
	var uc string
	for range 5 {
		uc = s.newUserCode()
		row := &deviceRow{hash: hashOf(dc), userCodeHash: hashOf(normalizeUserCode(uc)), clientID: c.ID, scope: scope,
			expiresAt: now.Add(s.lt.DeviceCode).Unix(), interval: interval}
		err = s.store.batch(false, func(tx txn) error { return tx.putDevice(row) })
		if !errors.Is(err, errDuplicate) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"device_code":               dc,
		"user_code":                 uc,
		"verification_uri":          s.url(pathDevice),
		"verification_uri_complete": s.url(pathDevice) + "?user_code=" + url.QueryEscape(uc),
		"expires_in":                int64(s.lt.DeviceCode / time.Second),
		"interval":                  interval,
	}, nil
}

// deviceToken is the device access token request, RFC 8628 §3.4–3.5.
func (s *Server) deviceToken(ctx context.Context, c *client, form url.Values) (*tokenResponse, error) {
	dc := form.Get("device_code")
	if dc == "" {
		return nil, badRequest("invalid_request", "device_code is missing")
	}
	aud, err := parseResources(form)
	if err != nil {
		return nil, err
	}
	var resp *tokenResponse
	var perr error
	err = s.store.update(ctx, func(tx txn) error {
		d, err := tx.device(hashOf(dc))
		if err != nil {
			return err
		}
		now := s.now().Unix()
		switch {
		case d == nil || d.clientID != c.ID:
			perr = badRequest("invalid_grant", "the device_code is unknown or belongs to another client: start a new device authorization")
			return nil
		case now >= d.expiresAt:
			perr = badRequest("expired_token", "the device_code has expired: start a new device authorization")
			return nil
		}
		switch d.status {
		case deviceDenied:
			perr = badRequest("access_denied", "the user denied the authorization request")
			return nil
		case deviceDone:
			perr = badRequest("invalid_grant", "the device_code was already exchanged for tokens")
			return nil
		case devicePending:
			interval := d.interval
			code, msg := "authorization_pending", "the user has not yet approved the request: keep polling every interval seconds"
			if d.lastPoll != 0 && now-d.lastPoll < d.interval {
				// RFC 8628 §3.5: slow_down, and "the interval MUST be increased by 5 seconds
				// for this and all subsequent requests".
				interval += 5
				code, msg = "slow_down", "polling too fast: wait at least interval seconds between requests (the interval grew by 5 s)"
			}
			if err := tx.devicePolled(d.hash, now, interval); err != nil {
				return err
			}
			perr = badRequest(code, "%s", msg)
			return nil
		}
		if err := tx.deviceExchanged(d.hash); err != nil {
			return err
		}
		resp, err = s.issueUserTokens(tx, c, newGrantID(s), d.scope, userGrant{Subject: d.subject, AuthTime: d.authTime, Resources: aud}, aud, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	return resp, nil
}

// handleDevicePage is the verification URI (RFC 8628 §3.3): the user enters the code, logs
// in if there is no SSO session, and approves or denies.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	params, err := pageParams(w, r)
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	sess, err := s.session(r)
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	uc := params.Get("user_code")
	page := func(status int, msg string) {
		d := pageData{Title: "Connect a device", Message: msg, Action: s.url(pathDevice), AskLogin: sess == nil,
			UserCode: &field{"user_code", uc}, Hidden: []field{{CSRFField, s.csrfValue(w, r)}},
			Buttons: []button{{"action", "approve", "Approve"}, {"action", "deny", "Deny"}}}
		s.renderPage(w, status, d)
	}
	if r.Method == http.MethodGet {
		page(http.StatusOK, "")
		return
	}
	if !s.csrfOK(r, params.Get(CSRFField)) {
		s.writeErrorPage(w, r, errorf(http.StatusForbidden, "invalid_request", "the form was not sent from this server's page or has expired (CSRF check failed): reload the page"))
		return
	}
	d, err := s.store.deviceByUserCode(r.Context(), hashOf(normalizeUserCode(uc)))
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	if d == nil || s.now().Unix() >= d.expiresAt || d.status != devicePending {
		page(http.StatusBadRequest, "This code is unknown, expired or already used. Check the code on your device.")
		return
	}
	user, authTime := "", int64(0)
	if sess != nil {
		user, authTime = sess.user, sess.authTime
	} else {
		u, ok := s.users[params.Get(UsernameField)]
		if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(params.Get(PasswordField))) != 1 {
			page(http.StatusUnauthorized, "Wrong username or password.")
			return
		}
		if err := s.newSession(w, r, u.Username); err != nil {
			s.writeErrorPage(w, r, err)
			return
		}
		user, authTime = u.Username, s.now().Unix()
	}
	status, msg := deviceApproved, "Device approved. You can return to your device."
	if params.Get("action") == "deny" {
		status, msg = deviceDenied, "Request denied. You can close this page."
	}
	err = s.store.batch(false, func(tx txn) error {
		_, err := tx.decideDevice(d.hash, status, user, authTime)
		return err
	})
	if err != nil {
		s.writeErrorPage(w, r, err)
		return
	}
	s.renderPage(w, http.StatusOK, pageData{Title: "Connect a device", Info: msg})
}

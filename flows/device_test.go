package flows

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dcrctl/dcrctl/flows/flowstest"
	"github.com/dcrctl/dcrctl/testserver"
)

// fakeClock is shared by the testserver (Config.Now) and the device flow (Now, Sleep), so
// that polling intervals and expiry are exercised for real without waiting.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
	// advance says how far the n-th sleep (from 1) moves the clock; nil means d.
	advance func(n int, d time.Duration) time.Duration
	// onSleep runs after the n-th sleep, before the poll that follows it.
	onSleep func(n int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n := len(c.sleeps)
	step := d
	if c.advance != nil {
		step = c.advance(n, d)
	}
	c.t = c.t.Add(step)
	c.mu.Unlock()
	if c.onSleep != nil {
		c.onSleep(n)
	}
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func TestDeviceFlow(t *testing.T) {
	s := time.Second
	type result struct {
		Token  *tokenShape
		Err    *errShape
		Sleeps string
	}
	cases := []struct {
		name      string
		flow      DeviceFlow
		button    string // approve or deny
		approveAt int    // 0: in Notify, before the first poll; n: after the n-th sleep; -1 never
		advance   func(n int, d time.Duration) time.Duration
		cancelAt  int                        // cancel the context after the n-th sleep
		cfg       func(c *testserver.Config) // server changes
		closedTok bool                       // the token endpoint is a closed port
		want      result
		wantIs    []error
	}{
		{
			name:   "approved before the first poll",
			button: "approve",
			want: result{
				Token:  &tokenShape{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: fixedNow.Add(5*s + time.Hour)},
				Sleeps: "[5s]",
			},
		},
		{
			name: "authorization_pending twice, then approved", button: "approve", approveAt: 3,
			want: result{
				Token:  &tokenShape{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: fixedNow.Add(15*s + time.Hour)},
				Sleeps: "[5s 5s 5s]",
			},
		},
		{
			// The second wait is cut short (the clock moves 1 s), so the server answers
			// slow_down; every later wait is 5 s longer (RFC 8628 §3.5).
			name: "slow_down adds 5 s to this and every later interval", button: "approve", approveAt: 4,
			advance: func(n int, d time.Duration) time.Duration {
				if n == 2 {
					return s
				}
				return d
			},
			want: result{
				Token:  &tokenShape{AccessToken: true, RefreshToken: true, TokenType: "Bearer", Scope: "dcr", ExpiresIn: 3600, Expiry: fixedNow.Add(26*s + time.Hour)},
				Sleeps: "[5s 5s 10s 10s]",
			},
		},
		{
			name: "denied", button: "deny",
			want:   result{Err: &errShape{Op: "device token", StatusCode: 400, Code: "access_denied", HasDescription: true}, Sleeps: "[5s]"},
			wantIs: []error{&Error{Code: "access_denied"}},
		},
		{
			name: "expires unapproved", approveAt: -1,
			cfg:    func(c *testserver.Config) { c.Lifetimes.DeviceCode = 20 * s },
			want:   result{Err: &errShape{Other: (&TimeoutError{Op: "device"}).Error()}, Sleeps: "[5s 5s 5s 5s]"},
			wantIs: []error{context.DeadlineExceeded},
		},
		{
			name: "canceled (Ctrl-C) while waiting", approveAt: -1, cancelAt: 2,
			want:   result{Err: &errShape{Other: "flows: device: context canceled"}, Sleeps: "[5s 5s]"},
			wantIs: []error{context.Canceled},
		},
		{
			name:   "a client without the device grant",
			flow:   DeviceFlow{ClientID: testserver.DefaultBootstrapClient},
			want:   result{Err: &errShape{Op: "device authorization", StatusCode: 400, Code: "unauthorized_client", HasDescription: true}, Sleeps: "[]"},
			wantIs: []error{&Error{Code: "unauthorized_client"}},
		},
		{
			name: "unreachable token endpoint: polling slows down, then gives up", approveAt: -1, closedTok: true,
			want: result{Err: &errShape{Other: "connection refused"}, Sleeps: "[5s 10s 20s 40s 1m20s]"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: fixedNow, advance: tc.advance}
			issuer, cfg := startServer(t, func(c *testserver.Config) {
				c.Now = clk.Now
				if tc.cfg != nil {
					tc.cfg(c)
				}
			})
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			br.Button = tc.button
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var auth DeviceAuthorization
			approve := func() {
				if err := br.Open(auth.VerificationURIComplete); err != nil {
					t.Errorf("approve: %v", err)
				}
			}
			clk.onSleep = func(n int) {
				if n == tc.approveAt {
					approve()
				}
				if n == tc.cancelAt {
					cancel()
				}
			}
			status := &flowstest.Buffer{}
			f := tc.flow
			if f.ClientID == "" {
				f.ClientID = testserver.DefaultNativeClient
			} else {
				f.ClientSecret = cfg.Clients[0].ClientSecret
			}
			f.Issuer, f.Now, f.Sleep, f.Status = issuer, clk.Now, clk.Sleep, status
			f.Notify = func(a DeviceAuthorization) {
				auth = a
				if tc.approveAt == 0 {
					approve()
				}
			}
			if tc.closedTok {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				f.TokenURL = "http://" + ln.Addr().String() + "/token"
				_ = ln.Close()
			}
			tok, err := f.Token(ctx)
			got := result{Token: shape(tok), Err: shapeErr(err), Sleeps: fmt.Sprint(clk.slept())}
			if got.Err != nil && got.Err.Other != "" && tc.closedTok && strings.Contains(got.Err.Other, "connection refused") {
				got.Err.Other = "connection refused"
			}
			if !equalPtr(got.Token, tc.want.Token) || !equalPtr(got.Err, tc.want.Err) || got.Sleeps != tc.want.Sleeps {
				t.Errorf("result\n got: token %+v err %+v (%v) sleeps %s\nwant: token %+v err %+v sleeps %s",
					got.Token, got.Err, err, got.Sleeps, tc.want.Token, tc.want.Err, tc.want.Sleeps)
			}
			for _, m := range tc.wantIs {
				if !errors.Is(err, m) {
					t.Errorf("errors.Is(%v, %v) = false", err, m)
				}
			}
			if auth.UserCode != "" {
				wantStatus := fmt.Sprintf("To log in, visit:\n\n  %s\n\nand enter the code:  %s\n\nor open this URL, which includes the code:\n\n  %s\n\nThe code expires in %s. Waiting for approval…\n",
					issuer+"/device", auth.UserCode, issuer+"/device?user_code="+url.QueryEscape(auth.UserCode), time.Duration(auth.ExpiresIn)*s)
				if got := status.String(); got != wantStatus {
					t.Errorf("status\n got: %q\nwant: %q", got, wantStatus)
				}
				if auth.Interval != 5 || auth.Expiry != fixedNow.Add(time.Duration(auth.ExpiresIn)*s) {
					t.Errorf("authorization: %+v", auth)
				}
			}
		})
	}
}

// TestDeviceFlowConfidential: a confidential client authenticates at both endpoints with its
// token_endpoint_auth_method (RFC 8628 §3.1, RFC 6749 §2.3.1).
func TestDeviceFlowConfidential(t *testing.T) {
	const secret = "dev:ice+secret%"
	clk := &fakeClock{t: fixedNow}
	issuer, _ := startServer(t, func(c *testserver.Config) {
		c.Now = clk.Now
		for _, m := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
			c.Clients = append(c.Clients, testserver.ClientConfig{ClientID: "device-" + m, ClientSecret: secret,
				TokenEndpointAuthMethod: m, GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}, Scope: "dcr"})
		}
	})
	for _, tc := range []struct {
		method, secret string
		want           *errShape
	}{
		{AuthClientSecretBasic, secret, nil},
		{AuthClientSecretPost, secret, nil},
		{AuthClientSecretBasic, "wrong", &errShape{Op: "device authorization", StatusCode: 401, Code: "invalid_client", HasDescription: true}},
	} {
		t.Run(tc.method+" "+map[bool]string{true: "ok", false: "wrong secret"}[tc.want == nil], func(t *testing.T) {
			br := flowstest.New(testserver.DefaultUser, testserver.DefaultUserPassword)
			br.Button = "approve"
			tok, err := DeviceFlow{Issuer: issuer, ClientID: "device-" + tc.method, ClientSecret: tc.secret, AuthMethod: tc.method,
				Now: clk.Now, Sleep: clk.Sleep,
				Notify: func(a DeviceAuthorization) { _ = br.Open(a.VerificationURIComplete) }}.Token(context.Background())
			if got := shapeErr(err); !equalPtr(got, tc.want) {
				t.Fatalf("error\n got: %+v (%v)\nwant: %+v", got, err, tc.want)
			}
			if tc.want == nil && (tok == nil || !tok.HasScope("dcr")) {
				t.Errorf("token %v, want scope dcr", tok)
			}
		})
	}
}

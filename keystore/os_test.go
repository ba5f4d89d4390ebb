package keystore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want string // the type of the result, and for wrapped errors its text
	}{
		{"nil", nil, "<nil>"},
		{"not found", keyring.ErrNotFound, "entry missing"},
		{"too big", keyring.ErrSetDataTooBig, "*keystore.TooBigError"},
		{"service unknown", dbus.Error{Name: dbusServiceUnknown}, "*keystore.UnavailableError"},
		{"no owner", &dbus.Error{Name: dbusNameHasNoOwner}, "*keystore.UnavailableError"},
		{"no reply", dbus.Error{Name: dbusNoReply}, "*keystore.TimeoutError"},
		{"locked", dbus.Error{Name: secretIsLocked}, "*keystore.LockedError"},
		{"no such object", dbus.Error{Name: secretNoSuchObject}, "*keystore.UnavailableError"},
		{"unknown object", dbus.Error{Name: dbusUnknownObject}, "*keystore.UnavailableError"},
		{"prompt dismissed", fmt.Errorf("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "*keystore.LockedError"},
		{"bus connection", &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connection refused")}, "*keystore.UnavailableError"},
		{"bus address", errors.New("dbus: couldn't determine address of session bus"), "*keystore.UnavailableError"},
		{"other", errors.New("exit status 44"), "keyring: exit status 44"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.in)
			desc := fmt.Sprint(reflect.TypeOf(got))
			if got != nil && desc == "*errors.errorString" || desc == "*fmt.wrapError" {
				desc = got.Error()
			}
			if desc != tc.want {
				t.Errorf("classify(%v) = %s, want %s", tc.in, desc, tc.want)
			}
		})
	}
}

// TestErrorMessagesNameTheFix checks that every typed error says what to do.
func TestErrorMessagesNameTheFix(t *testing.T) {
	tests := []struct {
		err  error
		want []string
	}{
		{&UnavailableError{Reason: "no D-Bus session bus"}, []string{"no Secret Service is running", "install gnome-keyring", "--keystore file"}},
		{&LockedError{}, []string{"locked", "unlock it"}},
		{&TimeoutError{Op: "read", After: 3 * time.Second}, []string{"within 3s", "DCRCTL_KEYRING_TIMEOUT=30s", "--keystore file"}},
		{&TimeoutError{Op: "call"}, []string{"did not answer a call in time", "DCRCTL_KEYRING_TIMEOUT=30s"}},
		{&TimeoutError{Op: "lock", After: time.Minute, Path: "/c/index.lock"}, []string{"/c/index.lock", "1m0s"}},
		{&TooBigError{Size: 20000, Max: 16000}, []string{"20000", "16000", "refresh token", "--keystore file"}},
		{&CorruptError{Path: "/c/index.json", Err: errors.New("x")}, []string{"/c/index.json", "move it aside"}},
		{&WrongKeystoreError{Name: "a", Has: "file", Opened: "os"}, []string{"--keystore file"}},
		{ErrNotFound, []string{"dcrctl list"}},
	}
	for _, tc := range tests {
		for _, w := range tc.want {
			if !strings.Contains(tc.err.Error(), w) {
				t.Errorf("%T: %q lacks %q", tc.err, tc.err, w)
			}
		}
	}
	if !errors.Is(&TimeoutError{}, context.DeadlineExceeded) {
		t.Error("a TimeoutError should match context.DeadlineExceeded")
	}
}

// TestTooBig: a credential whose secrets exceed what the keyring may hold is refused before
// anything is written, with a typed error; a single entry is never larger than 2,000 bytes.
func TestTooBig(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(KindOS, Options{ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	is := s.(*indexedStore)
	is.vault = poisonVault{is.vault, t} // any keyring call fails the test
	c := sample("big", 1)
	c.RefreshToken = strings.Repeat("x", maxKeyringTotal)
	err = s.Put(ctxT(t), c)
	var tb *TooBigError
	if !errors.As(err, &tb) || tb.Max != maxKeyringTotal || tb.Size <= maxKeyringTotal {
		t.Fatalf("Put: %v, want a *TooBigError over %d bytes", err, maxKeyringTotal)
	}
	if list, err := s.List(ctxT(t)); err != nil || len(list) != 0 {
		t.Errorf("List = %d, %v; want nothing stored", len(list), err)
	}
	// The entry guard below the chunking, in case it is ever bypassed.
	v := &osVault{service: "x", read: time.Second, write: time.Second, busCheck: func() error { t.Error("bus used"); return nil }}
	if err := v.set(ctxT(t), "acct", strings.Repeat("y", maxKeyringChunk+1)); !errors.As(err, &tb) {
		t.Errorf("set of %d bytes: %v, want *TooBigError", maxKeyringChunk+1, err)
	}
}

func TestSplitChunks(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want []string
	}{
		{"", 3, nil},
		{"abc", 3, []string{"abc"}},
		{"abcd", 3, []string{"abc", "d"}},
		{"a€b", 3, []string{"a", "€", "b"}}, // € is 3 bytes: never cut inside it
		{"ab€", 4, []string{"ab", "€"}},
	}
	for _, tc := range tests {
		if got := splitChunks(tc.in, tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitChunks(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestCredentialFormatRedacts(t *testing.T) {
	c := sample("app", 1)
	if !c.HasSecrets() || c.withoutSecrets().HasSecrets() {
		t.Errorf("HasSecrets: %v with, %v without; want true, false", c.HasSecrets(), c.withoutSecrets().HasSecrets())
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
		for _, v := range []any{c, &c, []Credential{c}, struct{ C Credential }{c}} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{c.ClientSecret, c.RegistrationAccessToken, c.RefreshToken, c.AccessToken} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T shows a secret", verb, v)
				}
			}
			if verb == "%v" && !strings.Contains(out, "client-app") {
				t.Errorf("%s of %T hides the client_id: %s", verb, v, out)
			}
		}
	}
}

// TestCallBounds: osVault.call returns when its timeout passes or its context ends, whatever
// the keyring call does, and maps go-keyring's results.
func TestCallBounds(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func() error { <-release; return nil }
	v := &osVault{}
	tests := []struct {
		name    string
		ctx     func() context.Context
		timeout time.Duration
		f       func() error
		want    error
	}{
		{"hangs past the timeout", context.Background, 20 * time.Millisecond, hang, &TimeoutError{Op: "read", After: 20 * time.Millisecond}},
		{"context canceled first", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx
		}, time.Minute, hang, context.Canceled},
		{"answers", context.Background, time.Minute, func() error { return nil }, nil},
		{"not found", context.Background, time.Minute, func() error { return keyring.ErrNotFound }, errEntryMissing},
		{"bus check fails first", context.Background, time.Minute, func() error { t.Error("called"); return nil }, &UnavailableError{Reason: "test"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v.busCheck = nil
			if ue, ok := tc.want.(*UnavailableError); ok {
				v.busCheck = func() error { return ue }
			}
			got := v.call(tc.ctx(), "read", tc.timeout, tc.f)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("call = %#v, want %#v", got, tc.want)
			}
		})
	}
}

package servertest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dcrctl/dcrctl/testserver"
	"github.com/dcrctl/dcrctl/testserver/servertest"
)

func discover(t *testing.T, hc *http.Client, issuer string) map[string]any {
	t.Helper()
	res, err := hc.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(res.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	return md
}

func TestStartAppliesMutator(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
		mode testserver.Mode
	}{{"http open", false, testserver.ModeOpen}, {"https disabled", true, testserver.ModeDisabled}} {
		t.Run(tc.name, func(t *testing.T) {
			start := servertest.Start
			if tc.tls {
				start = servertest.StartTLS
			}
			s := start(t, func(c *testserver.Config) { c.Registration = tc.mode })
			md := discover(t, s.HTTP.Client(), s.Issuer())
			_, advertised := md["registration_endpoint"]
			got := []any{md["issuer"], strings.HasPrefix(s.Issuer(), "https://"), advertised, s.Config.Registration, s.Config.Clients[0].ClientSecret != ""}
			want := []any{s.HTTP.URL, tc.tls, tc.mode != testserver.ModeDisabled, tc.mode, true}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("[issuer, https, registration advertised, mode, bootstrap secret] = %v, want %v", got, want)
			}
		})
	}
}

// fakeTB records a failure instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestStartFailsTheTestOnABadConfig(t *testing.T) {
	f := &fakeTB{TB: t}
	if s := servertest.Start(f, func(c *testserver.Config) { c.Registration = "sometimes" }); s != nil || !strings.Contains(f.failed, `unknown registration mode "sometimes"`) {
		t.Errorf("Start = %v, failure %q", s, f.failed)
	}
}

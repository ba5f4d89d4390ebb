package flows

import "testing"

// TestPickLoopbackRedirect: any loopback host and any path will do; a port-less one wins.
func TestPickLoopbackRedirect(t *testing.T) {
	cases := []struct {
		name    string
		uris    []string
		want    string
		wantErr bool
	}{
		{"loopback without port", []string{"http://127.0.0.1/callback"}, "http://127.0.0.1/callback", false},
		{"fixed port", []string{"com.example.app:/cb", "http://127.0.0.1:8765/callback"}, "http://127.0.0.1:8765/callback", false},
		{"any port wins over fixed", []string{"http://127.0.0.1:8765/callback", "http://[::1]/callback"}, "http://[::1]/callback", false},
		{"localhost", []string{"http://localhost:9000/cb"}, "http://localhost:9000/cb", false},
		{"any path", []string{"http://127.0.0.1/oauth/native/done"}, "http://127.0.0.1/oauth/native/done", false},
		{"https web app", []string{"https://app.example/cb"}, "", true},
		{"non-loopback http", []string{"http://10.0.0.1/cb"}, "", true},
		{"fragment", []string{"http://127.0.0.1/cb#x"}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PickLoopbackRedirect(tc.uris)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("PickLoopbackRedirect(%v) = %q, %v; want %q, error %v", tc.uris, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

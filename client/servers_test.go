package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// forbiddenInUpdate are the members RFC 7592 §2.2 forbids in an update request.
var forbiddenInUpdate = []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"}

// TestServerShapes runs register, read, update and print over the client information
// responses of real servers (testdata/servers): null members are absent, "jwks": {} does
// not break an update, and the update sends back everything the server gave (changed where
// asked) except the four members RFC 7592 §2.2 forbids.
func TestServerShapes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "servers", "*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("want the golden server responses, found %v (%v)", files, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu      sync.Mutex
				putBody []byte
			)
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				doc := bytes.ReplaceAll(raw, []byte("%BASE%"), []byte(srv.URL))
				w.Header().Set("Content-Type", "application/json")
				switch r.Method {
				case http.MethodPost:
					w.WriteHeader(http.StatusCreated)
				case http.MethodPut:
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					putBody = b
					mu.Unlock()
					// The server takes the new client_name and answers with the rest.
					var in, out map[string]any
					json.Unmarshal(b, &in)
					json.Unmarshal(doc, &out)
					out["client_name"] = in["client_name"]
					doc, _ = json.Marshal(out)
				}
				w.Write(doc)
			}))
			defer srv.Close()
			var c Client
			reg, err := c.Register(t.Context(), srv.URL+"/register", "iat", Metadata{ClientName: name + "-shaped"})
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			got, err := c.Read(t.Context(), reg)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(got, reg) {
				t.Errorf("read differs from register:\n%v\n%v", got, reg)
			}
			md := got.Metadata
			md.ClientName = "renamed"
			updated, err := c.Update(t.Context(), got, md)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if updated.ClientName != "renamed" {
				t.Errorf("updated client_name = %q", updated.ClientName)
			}

			// What was sent: every member the server gave, except null, "" in a typed field
			// and the four forbidden ones, with client_name changed.
			var sent, gave map[string]json.RawMessage
			if err := json.Unmarshal(putBody, &sent); err != nil {
				t.Fatalf("update body: %v", err)
			}
			json.Unmarshal(bytes.ReplaceAll(raw, []byte("%BASE%"), []byte(srv.URL)), &gave)
			want := map[string]string{}
			for k, v := range gave {
				switch {
				case isNull(v), string(v) == `""` && namesOf(plainMetadata{})[k]:
				case k == "client_name":
					want[k] = `"renamed"`
				default:
					want[k] = compact(t, v)
				}
			}
			for _, k := range forbiddenInUpdate {
				delete(want, k)
			}
			have := map[string]string{}
			for k, v := range sent {
				have[k] = compact(t, v)
			}
			if !reflect.DeepEqual(have, want) {
				t.Errorf("update sent\n%v\nwant\n%v", have, want)
			}

			// What is printed: the metadata without nulls, secrets redacted.
			printed := fmt.Sprint(updated)
			for _, secret := range []string{reg.ClientSecret, reg.RegistrationAccessToken, "Pw9"} {
				if secret == "" || strings.Contains(printed, secret) {
					t.Errorf("a secret is empty or printed")
				}
			}
			if strings.Contains(printed, "null") {
				t.Errorf("printed form shows a null: %s", printed)
			}
			golden(t, "golden/servers/"+name+".print.json", indent(t, bytes.ReplaceAll([]byte(printed), []byte(srv.URL), []byte("%BASE%"))))
		})
	}
}

func compact(t *testing.T, v json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

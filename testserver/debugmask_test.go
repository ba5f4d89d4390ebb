package testserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"reflect"
	"strings"
	"testing"
)

func TestMaskedJSON(t *testing.T) {
	long := "0123456789abcdefSECRET-TAIL"
	for _, c := range []struct {
		name, in, want string
		top            map[string]string
	}{{
		name: "registration answer",
		in:   `{"client_id":"app","client_secret":"` + long + `","registration_access_token":"short","client_secret_expires_at":0,"scope":"a b"}`,
		want: "{\n  \"client_id\": \"app\",\n  \"client_secret\": \"••••TAIL\",\n  \"registration_access_token\": \"••••\",\n  \"client_secret_expires_at\": 0,\n  \"scope\": \"a b\"\n}",
		top:  map[string]string{"client_id": "app", "client_secret": long, "registration_access_token": "short", "scope": "a b"},
	}, {
		name: "nested, escaped names, non-string secrets",
		in:   ` [ {"a":{"access_token":"` + long + `","n":[1,true,null,-2.5e3]}}, {"client\u005fsecret":"` + long + `","password":{"x":1},"token":[1,2]} ] `,
		want: "[\n  {\n    \"a\": {\n      \"access_token\": \"••••TAIL\",\n      \"n\": [\n        1,\n        true,\n        null,\n        -2.5e3\n      ]\n    }\n  },\n  {\n    \"client\\u005fsecret\": \"••••TAIL\",\n    \"password\": \"••••\",\n    \"token\": \"••••\"\n  }\n]",
		top:  map[string]string{},
	}, {
		name: "private key members only inside jwks",
		in:   `{"d":"not a key","jwks":{"keys":[{"kty":"oct","k":"` + long + `","kid":"1"},{"kty":"RSA","n":"pub","d":"` + long + `","oth":[{"r":"x"}]}]}}`,
		want: "{\n  \"d\": \"not a key\",\n  \"jwks\": {\n    \"keys\": [\n      {\n        \"kty\": \"oct\",\n        \"k\": \"••••TAIL\",\n        \"kid\": \"1\"\n      },\n      {\n        \"kty\": \"RSA\",\n        \"n\": \"pub\",\n        \"d\": \"••••TAIL\",\n        \"oth\": \"••••\"\n      }\n    ]\n  }\n}",
		top:  map[string]string{"d": "not a key"},
	}, {
		name: "escapes in a secret and in a value",
		in:   `{"error":"invalid_client_metadata","error_description":"bad \"uri\"\n","client_secret":"0123456789abcdef\"\\\u00e9"}`,
		want: "{\n  \"error\": \"invalid_client_metadata\",\n  \"error_description\": \"bad \\\"uri\\\"\\n\",\n  \"client_secret\": \"••••\\\"\\\\é\"\n}",
		top:  map[string]string{"error": "invalid_client_metadata", "error_description": "bad \"uri\"\n", "client_secret": "0123456789abcdef\"\\é"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]string{}
			out, ok := maskedJSON([]byte(c.in), func(k, v string) { got[k] = v })
			if !ok || string(out) != c.want {
				t.Errorf("maskedJSON = %v\n%s\nwant\n%s", ok, out, c.want)
			}
			if !maps.Equal(got, c.top) {
				t.Errorf("top-level members %q, want %q", got, c.top)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"a":1,}`, `{"a" 1}`, `[1 2]`, `"x`, `{"client_secret":"abc` + strings.Repeat("x", 20)} {
		if out, ok := maskedJSON([]byte(bad), nil); ok || out != nil {
			t.Errorf("maskedJSON(%q) = %q, %v; want nil, false", bad, out, ok)
		}
	}
}

// maskTree is the masking rule on a decoded value: the reference maskedJSON is checked
// against.
func maskTree(v any, inJWKS bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			switch {
			case isSecretName(k) || inJWKS && jwkPrivateMembers[k]:
				if s, ok := x.(string); ok {
					out[k] = maskSecret(s)
				} else {
					out[k] = "••••"
				}
			default:
				out[k] = maskTree(x, inJWKS || k == "jwks")
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskTree(x, inJWKS)
		}
		return out
	}
	return v
}

// FuzzMaskedJSON: for any input, maskedJSON accepts exactly valid JSON, and its output is
// valid JSON that decodes to the input with the masking rule applied (maskTree); the
// top-level string members it reports are the input's.
func FuzzMaskedJSON(f *testing.F) {
	for _, s := range []string{`{"client_secret":"0123456789abcdefghij","a":[1,{"jwks":{"keys":[{"d":"x"}]}}]}`,
		`[{"password":{"x":1}}]`, `"str"`, `12`, `{"access\u005ftoken":"\ud83d\ude00 0123456789abcdef"}`, `{"a":"\xff","refresh_token":"0123456789abcdef\xff"}`, `{}`, `{"a":1,"a":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		top := map[string]string{}
		out, ok := maskedJSON(in, func(k, v string) { top[k] = v })
		v, err := decodeNumbers(in)
		if (err == nil) != ok {
			t.Fatalf("maskedJSON ok = %v, json.Unmarshal error %v", ok, err)
		}
		if !ok {
			return
		}
		got, err := decodeNumbers(out)
		if err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		// As JSON text: a mask's last four bytes may cut a character, shown as U+FFFD.
		b, _ := json.Marshal(maskTree(v, false))
		want, _ := decodeNumbers(b)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("masked\n%s\ndecodes to %#v\nwant %#v", out, got, want)
		}
		// Every top-level string member is reported with its value; nothing else is (with
		// a name given twice, the last string value).
		m, isObj := v.(map[string]any)
		for k, x := range m {
			if s, isStr := x.(string); isStr && top[k] != s {
				t.Fatalf("top-level member %q = %q, want %q", k, top[k], s)
			}
		}
		for k := range top {
			if _, in := m[k]; !isObj || !in {
				t.Fatalf("top-level member %q reported, not in the input", k)
			}
		}
	})
}

// decodeNumbers decodes one JSON value, numbers as their literals.
func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// The printed forms of Metadata and Registration (fmt's %v, %+v, %#v, %s, %q, String,
// GoString, and log/slog) are their JSON with every secret replaced by "[REDACTED]": the
// client secret, the registration access token, the software statement, any member whose
// name [IsSecretMember] says is secret, and the private parts of keys (RFC 7518 §6).

const redacted = `"[REDACTED]"`

// jwkPrivate are the JWK members that hold private or symmetric key material (RFC 7518 §6).
var jwkPrivate = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// redactJSON returns data with secrets replaced; inJWKS applies the JWK rules.
func redactJSON(data []byte, inJWKS bool) []byte {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return data
	}
	switch data[0] {
	case '{':
		var probe map[string]json.RawMessage
		if json.Unmarshal(data, &probe) != nil {
			return []byte(redacted)
		}
		_, isJWK := probe["kty"]
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.Token()
		var b bytes.Buffer
		b.WriteByte('{')
		for i := 0; dec.More(); i++ {
			t, err := dec.Token()
			if err != nil {
				return []byte(redacted)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return []byte(redacted)
			}
			k := t.(string)
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			if IsSecretMember(k) || (inJWKS || isJWK) && jwkPrivate[k] {
				b.WriteString(redacted)
			} else {
				b.Write(redactJSON(v, inJWKS || k == "jwks"))
			}
		}
		b.WriteByte('}')
		return b.Bytes()
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return []byte(redacted)
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range elems {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(redactJSON(e, inJWKS))
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	return data
}

func printable(m json.Marshaler) string {
	b, err := m.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("<invalid: %v>", err)
	}
	return string(redactJSON(b, false))
}

func format(f fmt.State, verb rune, typeName, s string) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			fmt.Fprintf(f, "%s(%s)", typeName, s)
			return
		}
		fmt.Fprint(f, s)
	case 's':
		fmt.Fprint(f, s)
	case 'q':
		fmt.Fprintf(f, "%q", s)
	default:
		fmt.Fprintf(f, "%%!%c(%s)", verb, typeName)
	}
}

func logValue(s string) slog.Value {
	var members map[string]any
	if err := json.Unmarshal([]byte(s), &members); err != nil {
		return slog.StringValue(s)
	}
	attrs := make([]slog.Attr, 0, len(members))
	for _, k := range slices.Sorted(maps.Keys(members)) {
		attrs = append(attrs, slog.Any(k, members[k]))
	}
	return slog.GroupValue(attrs...)
}

// String returns the metadata as JSON with secrets redacted.
func (m Metadata) String() string { return printable(m) }

// GoString is like String, for %#v.
func (m Metadata) GoString() string { return "client.Metadata(" + m.String() + ")" }

// Format prints the metadata with secrets redacted, for every fmt verb.
func (m Metadata) Format(f fmt.State, verb rune) { format(f, verb, "client.Metadata", m.String()) }

// LogValue gives log/slog the metadata with secrets redacted.
func (m Metadata) LogValue() slog.Value { return logValue(m.String()) }

// String returns the registration as JSON with the client secret, the registration access
// token and other secrets redacted.
func (r Registration) String() string {
	s := printable(r)
	// A secret may also hide in a member not named for it (a vendor echoing it, say).
	for _, secret := range []string{r.ClientSecret, r.RegistrationAccessToken} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

// GoString is like String, for %#v.
func (r Registration) GoString() string { return "client.Registration(" + r.String() + ")" }

// Format prints the registration with secrets redacted, for every fmt verb.
func (r Registration) Format(f fmt.State, verb rune) {
	format(f, verb, "client.Registration", r.String())
}

// LogValue gives log/slog the registration with secrets redacted.
func (r Registration) LogValue() slog.Value { return logValue(r.String()) }

var (
	_ fmt.Formatter  = Registration{}
	_ fmt.GoStringer = Registration{}
	_ slog.LogValuer = Registration{}
	_ fmt.Formatter  = Metadata{}
	_ slog.LogValuer = Metadata{}
)

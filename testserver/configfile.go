package testserver

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ServeDefaults is DefaultConfig as dcrctl serve runs it without a file, and the base a
// configuration file is merged over: no issuer (the listen address gives it), and the
// bootstrap client's secret generated on the first start of the database and kept there.
func ServeDefaults() Config {
	c := DefaultConfig()
	c.Issuer = ""
	c.Clients[0].ClientSecret = ""
	return c
}

// LoadConfig reads a YAML configuration file. Fields it does not set keep their zero values
// (see Config); unknown keys are an error, so that typos do not pass silently.
func LoadConfig(path string) (Config, error) { return LoadConfigOver(path, Config{}) }

// LoadConfigOver reads a YAML configuration file over base: a key the file sets replaces
// base's value (a list — clients, templates, users, scopes, vendor_fields — is replaced
// whole, not appended to; the members of lifetimes, debug_page and behaviour are merged);
// keys it leaves out keep base's. Errors name the file's line and key path
// ("line 7: clients[0].grant_types: want a list of strings, not the string \"x\""), never a
// Go type.
func LoadConfigOver(path string, base Config) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("testserver: load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4<<20+1))
	if err != nil {
		return Config{}, fmt.Errorf("testserver: load config %s: %w", path, err)
	}
	if len(data) > 4<<20 {
		return Config{}, fmt.Errorf("testserver: load config %s: larger than 4 MiB", path)
	}
	c := base
	// Lists are replaced whole by yaml.v3; maps are merged into, so give the decoder copies.
	c.Switches = cloneMap(base.Switches)
	c.SoftwareStatementIssuers = cloneMap(base.SoftwareStatementIssuers)
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("testserver: load config %s: %w", path, explainYAML(data, err))
	}
	return c, nil
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// valueError is a value that its type's UnmarshalYAML refuses; LoadConfigOver puts the key
// path of the value in front.
type valueError struct {
	Line, Column int
	Key          string // the usual key, for messages without the file's path
	Msg          string
}

// newValueError reports n, which is not what: "\"x\" is not a rotation policy: use …".
func newValueError(n *yaml.Node, key, what string) *valueError {
	shown := strconv.Quote(n.Value)
	switch n.Kind {
	case yaml.SequenceNode:
		shown = "a list"
	case yaml.MappingNode:
		shown = "a mapping"
	}
	return &valueError{Line: n.Line, Column: n.Column, Key: key, Msg: shown + " is not " + what}
}

func (e *valueError) Error() string { return e.Key + ": " + e.Msg }

// place is where a key or a value of the file is, and the Go type it decodes into.
type place struct {
	path         string
	line, column int
	typ          reflect.Type // nil for a key, or for a value of no known type
	key          bool
}

// configError is a configuration file's error, in the file's terms.
type configError struct{ lines []string }

func (e *configError) Error() string { return strings.Join(e.lines, "; ") }

var (
	reCannot  = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	reUnknown = regexp.MustCompile(`^line (\d+): field (.+) not found in type (.+)$`)
)

// explainYAML rewrites yaml.v3's errors, which name Go types, into the file's key paths.
func explainYAML(data []byte, err error) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return err // a syntax error: yaml.v3's own message names the line
	}
	var ps []place
	walkPlaces(&doc, reflect.TypeOf(Config{}), "", &ps)
	var ve *valueError
	if errors.As(err, &ve) {
		return &configError{[]string{fmt.Sprintf("line %d: %s: %s", ve.Line, valuePath(ps, ve, ve.Key), ve.Msg)}}
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	ce := &configError{}
	for _, msg := range te.Errors {
		ce.lines = append(ce.lines, explainLine(ps, msg))
	}
	return ce
}

func explainLine(ps []place, msg string) string {
	if m := reCannot.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		var at *place
		for i := range ps {
			p := &ps[i]
			if p.line == line && !p.key && (at == nil || p.typ != nil && p.typ.String() == m[4]) {
				at = p
			}
		}
		if at == nil {
			return msg
		}
		return fmt.Sprintf("line %d: %s: want %s, not %s", line, orTop(at.path), describeType(at.typ), describeValue(at.path, m[2], m[3]))
	}
	if m := reUnknown.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		for _, p := range ps {
			if p.key && p.line == line && lastKey(p.path) == m[2] {
				return fmt.Sprintf("line %d: unknown key %s%s", line, p.path, suggestKey(ps, p.path))
			}
		}
	}
	return msg
}

// valuePath is the key path of the value ve is about, or key when the file has none there.
func valuePath(ps []place, ve *valueError, key string) string {
	for _, p := range ps {
		if p.line == ve.Line && p.column == ve.Column && !p.key && p.path != "" {
			return p.path
		}
	}
	return key
}

// walkPlaces records the place of every key and value below n, which decodes into t.
func walkPlaces(n *yaml.Node, t reflect.Type, path string, out *[]place) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkPlaces(c, t, path, out)
		}
		return
	case yaml.AliasNode:
		return
	}
	*out = append(*out, place{path: path, line: n.Line, column: n.Column, typ: t})
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			*out = append(*out, place{path: p, line: k.Line, key: true})
			walkPlaces(v, fieldType(t, k.Value), p, out)
		}
	case yaml.SequenceNode:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i, c := range n.Content {
			walkPlaces(c, elem, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// fieldType is the type that key decodes into within t (a struct by its yaml tags, or a map).
func fieldType(t reflect.Type, key string) reflect.Type {
	switch {
	case t == nil:
		return nil
	case t.Kind() == reflect.Map:
		return t.Elem()
	case t.Kind() != reflect.Struct:
		return nil
	}
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == key {
			return t.Field(i).Type
		}
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" && f.IsExported() {
		return strings.ToLower(f.Name)
	}
	return name
}

// keysOf lists the yaml keys of a struct type.
func keysOf(t reflect.Type) []string {
	var keys []string
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		if n := yamlName(t.Field(i)); n != "" && n != "-" {
			keys = append(keys, n)
		}
	}
	return keys
}

// suggestKey names the closest known key at the same level, or lists them.
func suggestKey(ps []place, path string) string {
	parent, name := "", path
	if i := strings.LastIndex(path, "."); i >= 0 {
		parent, name = path[:i], path[i+1:]
	}
	var keys []string
	for _, p := range ps {
		if !p.key && p.path == parent && p.typ != nil {
			keys = keysOf(p.typ)
			break
		}
	}
	if len(keys) == 0 {
		return ""
	}
	best, dist := "", 3
	for _, k := range keys {
		if d := editDistance(name, k); d < dist {
			best, dist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(": did you mean %s?", best)
	}
	slices.Sort(keys)
	return ": the keys there are " + strings.Join(keys, ", ")
}

// editDistance is the Levenshtein distance of a and b (short keys only).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func lastKey(path string) string { return path[strings.LastIndex(path, ".")+1:] }

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// describeType says in words what a value of t looks like in YAML.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	if t == reflect.TypeOf(time.Duration(0)) {
		return "a duration such as 90s, 10m or 1h"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings"
		case reflect.Struct:
			return "a list of mappings (- key: value)"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value)"
	}
	return "another kind of value"
}

// describeValue says what the file has; a value under a secret-named key is not repeated.
func describeValue(path, tag, value string) string {
	if isSecretName(lastKey(path)) {
		value = ""
	}
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!null":
		return "nothing"
	case "!!str":
		if value == "" {
			return "a string"
		}
		return strconv.Quote(value)
	}
	if value == "" {
		return strings.TrimPrefix(tag, "!!")
	}
	return value
}

// CheckRegistration refuses a configuration in which nobody can register in its mode (the
// behaviour profile's when Registration is empty), naming the key to add: client mode needs
// a confidential static client with the client credentials grant that may have scope dcr;
// user mode needs a user and a static client that users log in with (authorization code with
// redirect_uris, or the device grant) that may have scope dcr; both need dcr among the
// server's scopes. Open and disabled modes always pass. New does not call it: a test may
// want a server nobody can register with.
func (c Config) CheckRegistration() error {
	mode, err := ParseMode(string(c.Registration))
	if err != nil {
		return err
	}
	if c.Registration == "" {
		b, err := resolveBehaviour(c)
		if err != nil {
			return err
		}
		mode = b.Registration
	}
	if mode == ModeOpen || mode == ModeDisabled {
		return nil
	}
	if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, scopeDCR) {
		return fmt.Errorf("registration: %s: initial access tokens carry the scope dcr, which scopes: leaves out: add dcr to scopes:", mode)
	}
	mayDCR := func(cc ClientConfig) bool { return cc.Scope == "" || hasScope(cc.Scope, scopeDCR) }
	if mode == ModeClient {
		for _, cc := range c.Clients {
			cc = cc.withDefaults()
			if cc.TokenEndpointAuthMethod != "none" && slices.Contains(cc.GrantTypes, "client_credentials") && mayDCR(cc) {
				return nil
			}
		}
		return errors.New("registration: client: no client can get an initial access token (client credentials grant, scope dcr): " +
			"add one under clients: (client_id: ci, grant_types: [client_credentials], scope: dcr), or leave clients: out to keep the bootstrap client")
	}
	if len(c.Users) == 0 {
		return errors.New("registration: user: nobody can log in: add a user under users: (username: alice, password: …), or leave users: out to keep demo/demo")
	}
	for _, cc := range c.Clients {
		cc = cc.withDefaults()
		login := slices.Contains(cc.GrantTypes, "authorization_code") && len(cc.RedirectURIs) > 0 || slices.Contains(cc.GrantTypes, grantDevice)
		if login && mayDCR(cc) {
			return nil
		}
	}
	return errors.New("registration: user: no client that users log in with can get scope dcr: add one under clients: (client_id: dcrctl, " +
		"token_endpoint_auth_method: none, grant_types: [authorization_code, refresh_token], redirect_uris: [http://127.0.0.1/callback], scope: openid dcr), " +
		"or leave clients: out to keep dcrctl's")
}

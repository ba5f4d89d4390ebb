package testserver

import (
	"bytes"
)

// maskedJSON is a JSON body as the debugger shows it: indented by two spaces, in the order it
// was sent, the value of every secret member (isSecretName; inside "jwks", also
// jwkPrivateMembers) masked by maskSecret, or "••••" when it is not a string. top, if not
// nil, is called with every top-level string member and its clear value (describe reads the
// answer's error, client_id and issued tokens from them) before it is masked. ok is false
// when body is not valid JSON (RFC 8259; what encoding/json accepts).
//
// One pass over the bytes, validating as it copies: every exchange the server answers goes
// through here, and decoding into maps and marshalling them again cost a third of a
// registration's CPU time.
func maskedJSON(body []byte, top func(name, value string)) (out []byte, ok bool) {
	m := &jsonMasker{src: body, out: make([]byte, 0, len(body)+len(body)/2), top: top}
	if !m.value(0, false) {
		return nil, false
	}
	if m.space(); m.i != len(m.src) {
		return nil, false
	}
	return m.out, true
}

// jsonMasker copies JSON from src to out, masking as maskedJSON says. Its methods return
// false at the first byte that is not valid JSON.
type jsonMasker struct {
	src []byte
	i   int
	out []byte
	top func(name, value string)
}

// jsonMaxDepth is encoding/json's nesting limit.
const jsonMaxDepth = 10000

func (m *jsonMasker) space() { m.i = skipSpace(m.src, m.i) }

// next skips white space and reports whether the next byte is c, consuming it if so.
func (m *jsonMasker) next(c byte) bool {
	m.space()
	if m.i < len(m.src) && m.src[m.i] == c {
		m.i++
		return true
	}
	return false
}

func (m *jsonMasker) newline(depth int) {
	m.out = append(m.out, '\n')
	for range depth {
		m.out = append(m.out, ' ', ' ')
	}
}

// value copies the value at m.i; depth is the number of containers around it.
func (m *jsonMasker) value(depth int, inJWKS bool) bool {
	m.space()
	if m.i == len(m.src) || depth > jsonMaxDepth {
		return false
	}
	switch c := m.src[m.i]; {
	case c == '{':
		return m.object(depth, inJWKS)
	case c == '[':
		return m.array(depth, inJWKS)
	case c == '"':
		raw, ok := m.str()
		m.out = append(m.out, raw...)
		return ok
	case c == '-' || '0' <= c && c <= '9':
		return m.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(m.src[m.i:], []byte(lit)) {
			m.i += len(lit)
			m.out = append(m.out, lit...)
			return true
		}
	}
	return false
}

func (m *jsonMasker) array(depth int, inJWKS bool) bool {
	return m.container(depth, '[', ']', func() bool { return m.value(depth+1, inJWKS) })
}

func (m *jsonMasker) object(depth int, inJWKS bool) bool {
	return m.container(depth, '{', '}', func() bool { return m.member(depth, inJWKS) })
}

// container copies an array or object at depth: open, the items one per line, end.
func (m *jsonMasker) container(depth int, open, end byte, item func() bool) bool {
	m.i++
	m.out = append(m.out, open)
	if m.next(end) {
		m.out = append(m.out, end)
		return true
	}
	for {
		m.newline(depth + 1)
		if !item() {
			return false
		}
		if m.next(end) {
			break
		}
		if !m.next(',') {
			return false
		}
		m.out = append(m.out, ',')
	}
	m.newline(depth)
	m.out = append(m.out, end)
	return true
}

// member copies one name and value of an object at depth, masking the value of a secret.
func (m *jsonMasker) member(depth int, inJWKS bool) bool {
	m.space()
	if m.i == len(m.src) || m.src[m.i] != '"' {
		return false
	}
	raw, ok := m.str()
	if !ok || !m.next(':') {
		return false
	}
	name, _ := jsonString(raw)
	m.out = append(append(m.out, raw...), ':', ' ')
	m.space()
	isString := m.i < len(m.src) && m.src[m.i] == '"'
	secret := isSecretName(name) || inJWKS && jwkPrivateMembers[name]
	switch {
	case isString && (secret || depth == 0 && m.top != nil):
		raw, ok := m.str()
		if !ok {
			return false
		}
		v, _ := jsonString(raw)
		if depth == 0 && m.top != nil {
			m.top(name, v)
		}
		if !secret {
			m.out = append(m.out, raw...)
			return true
		}
		m.out = appendJSONString(m.out, maskSecret(v))
	case secret:
		n := len(m.out)
		if !m.value(depth+1, inJWKS) {
			return false
		}
		m.out = append(m.out[:n], `"••••"`...)
	default:
		return m.value(depth+1, inJWKS || name == "jwks")
	}
	return true
}

// str returns the string literal at m.i, quotes and escapes as they are, and moves past it.
func (m *jsonMasker) str() ([]byte, bool) {
	start := m.i
	for m.i++; m.i < len(m.src); m.i++ {
		switch c := m.src[m.i]; {
		case c == '"':
			m.i++
			return m.src[start:m.i], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			if m.i++; m.i == len(m.src) {
				return nil, false
			}
			switch m.src[m.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if m.i+4 >= len(m.src) || !isHex4(m.src[m.i+1:m.i+5]) {
					return nil, false
				}
				m.i += 4
			default:
				return nil, false
			}
		}
	}
	return nil, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number copies the number at m.i: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (m *jsonMasker) number() bool {
	start := m.i
	digits := func() int {
		n := 0
		for ; m.i < len(m.src) && '0' <= m.src[m.i] && m.src[m.i] <= '9'; m.i++ {
			n++
		}
		return n
	}
	if m.src[m.i] == '-' {
		m.i++
	}
	if m.i < len(m.src) && m.src[m.i] == '0' {
		m.i++
	} else if digits() == 0 {
		return false
	}
	if m.i < len(m.src) && m.src[m.i] == '.' {
		m.i++
		if digits() == 0 {
			return false
		}
	}
	if m.i < len(m.src) && (m.src[m.i] == 'e' || m.src[m.i] == 'E') {
		m.i++
		if m.i < len(m.src) && (m.src[m.i] == '+' || m.src[m.i] == '-') {
			m.i++
		}
		if digits() == 0 {
			return false
		}
	}
	m.out = append(m.out, m.src[start:m.i]...)
	return true
}

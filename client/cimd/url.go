package cimd

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// IsClientIDURL reports whether a client_id is meant as a Client Identifier URL: it starts
// with https:// (draft §7.1: servers that issue their own client ids avoid that prefix).
// Whether it is a valid one is [CheckURL]'s business.
func IsClientIDURL(clientID string) bool {
	return len(clientID) >= len("https://") && strings.EqualFold(clientID[:len("https://")], "https://")
}

// CheckURL checks a Client Identifier URL against §3: "MUST use the https URL scheme; MUST
// NOT contain a userinfo component; MAY contain a port; MUST contain a path component; MUST
// NOT contain single-dot or double-dot path components; SHOULD NOT contain a query component;
// MUST NOT contain a fragment component". member names where the URL came from ("" for the
// URL itself, "client_id" for the document's member).
func CheckURL(raw, member string) Problems {
	u, err := url.Parse(raw)
	if err != nil {
		return Problems{problem(member, "§3", "%q is not a URL (%v): use https://HOST/PATH", raw, urlErr(err))}
	}
	var ps Problems
	if u.Scheme != "https" {
		ps = append(ps, problem(member, "§3", "%q does not use the https scheme: a Client Identifier URL is https://HOST/PATH", raw))
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		ps = append(ps, problem(member, "§3", "%q has no host: use https://HOST/PATH", raw))
	}
	if u.User != nil {
		ps = append(ps, problem(member, "§3", "%q contains user info (user@ or user:password@): remove it", raw))
	}
	switch {
	case u.Opaque == "" && u.EscapedPath() == "":
		ps = append(ps, problem(member, "§3", "%q has no path: serve the document at a path, e.g. https://%s/client.json", raw, u.Host))
	case u.EscapedPath() == "/":
		ps = append(ps, warning(member, "§3", "%q has the path /: the document would take the root of the site (NOT RECOMMENDED); serve it at a path of its own", raw))
	}
	if segs := strings.Split(u.Path, "/"); slices.Contains(segs, ".") || slices.Contains(segs, "..") {
		ps = append(ps, problem(member, "§3", "%q has a . or .. path segment: use the path without it", raw))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		ps = append(ps, problem(member, "§3", "%q has a fragment (#…): remove it", raw))
	}
	if u.RawQuery != "" || u.ForceQuery {
		ps = append(ps, warning(member, "§3", "%q has a query (?…), which a Client Identifier URL SHOULD NOT have", raw))
	}
	return ps
}

// urlErr is the reason of a url.Parse error without the repeated URL.
func urlErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// dangerousSchemes run code or read local data in a browser: never a redirect target, and
// never a URL worth fetching (§8.6: "only fetch or parse URLs with known and supported URI
// schemes").
var dangerousSchemes = []string{"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "view-source", "jar", "ws", "wss", "ftp"}

// checkRedirect checks one redirect URI (§4.2 with RFC 6749 §3.1.2 and RFC 8252 §7).
func checkRedirect(raw, member string) Problems {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return Problems{problem(member, "RFC 6749 §3.1.2", "%q is not a URI (%v)", raw, urlErr(err))}
	case !u.IsAbs():
		return Problems{problem(member, "RFC 6749 §3.1.2", "%q is relative: a redirect URI is absolute", raw)}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return Problems{problem(member, "RFC 6749 §3.1.2", "%q has a fragment (#…), which a redirect URI MUST NOT have", raw)}
	case slices.Contains(dangerousSchemes, strings.ToLower(u.Scheme)):
		return Problems{problem(member, "§8.6", "%q uses the %s: scheme, which can run code or read files in a browser: use https, loopback http or a private-use scheme", raw, u.Scheme)}
	case u.User != nil:
		return Problems{problem(member, "RFC 6749 §3.1.2", "%q contains user info: remove it", raw)}
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return Problems{warning(member, "RFC 8252 §8.3", "%q uses localhost, which is NOT RECOMMENDED: use http://127.0.0.1 or http://[::1]", raw)}
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return Problems{problem(member, "RFC 8252 §7.3", "%q uses plain http on a host other than loopback: use https, or http://127.0.0.1 or http://[::1] for a native app", raw)}
		}
	case "https":
		if u.Host == "" {
			return Problems{problem(member, "RFC 6749 §3.1.2", "%q has no host", raw)}
		}
	default:
		// RFC 8252 §7.1: a private-use scheme, e.g. com.example.app:/oauth2redirect.
		if u.Host == "" && u.Opaque == "" && u.Path == "" {
			return Problems{problem(member, "RFC 8252 §7.1", "%q has no path: use e.g. %s:/callback", raw, u.Scheme)}
		}
	}
	return nil
}

// checkWebURL checks a member that is a web page or resource (client_uri, logo_uri, …): an
// absolute http or https URL (§8.6: no other schemes are fetched or shown).
func checkWebURL(raw, member string) Problems {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return Problems{problem(member, "§8.6", "%q is not an absolute https URL", raw)}
	}
	return nil
}

package cimd

import "net/netip"

// specialUseBlocks are the blocks of the RFC 6890 special-purpose address registries (with
// their later additions) that are not globally reachable unicast, IPv4 and IPv6: private,
// loopback, link-local, CGNAT, documentation, benchmarking, multicast, reserved, IPv6 ULA,
// NAT64, 6to4, Teredo and the IETF protocol assignments.
var specialUseBlocks = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
		"2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// SpecialUse reports whether ip is a special-use address that §8.6 forbids fetching a
// document from: "Authorization servers MUST NOT fetch a Client ID Metadata Document URL or
// any URLs contained within a Client ID Metadata Document that resolve to special-use IP
// addresses as defined in [RFC6890]". An IPv4-mapped IPv6 address is judged as its IPv4
// address.
func SpecialUse(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	for _, p := range specialUseBlocks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

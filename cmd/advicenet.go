package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// networkAdvice names the next step for a failure to reach the server at all; where names
// what gave its URL ("--issuer (or the profile)", "--resource").
func networkAdvice(err error, where string) string {
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		record  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return addrInUseAdvice(err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing is listening there: check the URL in " + where + " and that the server is running"
	case errors.As(err, &dns):
		return fmt.Sprintf("the host name %q does not resolve: check %s for a typo, and the network or VPN", dns.Name, strings.TrimSuffix(where, " (or the profile)"))
	case errors.As(err, &unknown):
		return "the server's certificate is signed by an authority this machine does not trust: give that CA's certificate with --ca-file FILE (or set SSL_CERT_FILE)"
	case errors.As(err, &hostErr):
		return "the server's certificate is for another host name: use the issuer URL the certificate names"
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the server speaks plain http, not https: use an http:// URL (dcrctl allows it for loopback hosts only)"
	}
	return ""
}

// addrInUseAdvice names what holds the address serve wanted, when the system tells, and
// the flag that picks another.
func addrInUseAdvice(err error) string {
	var oe *net.OpError
	owner := ""
	if errors.As(err, &oe) {
		if a, ok := oe.Addr.(*net.TCPAddr); ok {
			if p := portOwner(a.Port); p != "" {
				owner = " (by " + p + ")"
			}
		}
	}
	return "the address is in use" + owner + ": stop that server, or choose another address with --addr HOST:PORT (--addr 127.0.0.1:0 picks a free port)"
}

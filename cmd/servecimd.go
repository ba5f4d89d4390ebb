package cmd

import (
	"crypto/x509"
	"net"

	"github.com/spf13/pflag"

	"github.com/dcrctl/dcrctl/testserver"
)

// serveCIMDOptions are dcrctl serve's Client ID Metadata Document flags; they turn on what
// the configuration file's cimd: section may also turn on.
type serveCIMDOptions struct {
	Enabled       bool
	AllowLoopback bool
	// roots are --ca-file's certificates plus the system roots (nil: the system roots), for
	// the document servers' TLS.
	roots *x509.CertPool
}

func addServeCIMDFlags(f *pflag.FlagSet, o *serveCIMDOptions) {
	f.BoolVar(&o.Enabled, "cimd", false, "accept an https URL as client_id: fetch the client's metadata document there (draft-ietf-oauth-client-id-metadata-document); --ca-file adds CAs for those servers")
	f.BoolVar(&o.AllowLoopback, "cimd-allow-loopback", false, "with --cimd: also fetch documents from loopback addresses (tests on one machine; only for a server listening on loopback)")
}

// apply sets the flags over cfg and refuses the loopback exception where the draft does
// (§8.6: only for a server that itself runs on a loopback address).
func (o serveCIMDOptions) apply(cfg *testserver.Config, addr string) error {
	cfg.CIMD.Enabled = cfg.CIMD.Enabled || o.Enabled
	cfg.CIMD.AllowLoopback = cfg.CIMD.AllowLoopback || o.AllowLoopback
	if cfg.CIMD.RootCAs == nil {
		cfg.CIMD.RootCAs = o.roots
	}
	if !cfg.CIMD.AllowLoopback {
		return nil
	}
	if !cfg.CIMD.Enabled {
		return usageErrorf("--cimd-allow-loopback needs --cimd (or cimd: {enabled: true} in the config)")
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && !loopbackHost(host) {
		return usageErrorf("--cimd-allow-loopback is only for a server listening on a loopback address (--addr %s): it would let any client_id URL reach this machine's loopback services (draft §8.6)", addr)
	}
	return nil
}

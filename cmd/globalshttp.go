package cmd

import (
	"crypto/x509"
	"net/http"
	"os"

	"github.com/dcrctl/dcrctl/client"
)

// httpClient is the HTTP client for every request: package client's default client, whose
// Transport alone is wrapped — to record each request as a step (steps.go) and, with
// --verbose, for the redacted trace — so the redirect policy and timeouts stay the same.
// --ca-file adds trusted certificates; TLS verification itself is never turned off here.
func (g *GlobalOptions) httpClient() *http.Client {
	o := client.HTTPOptions{RootCAs: g.settings.RootCAs}
	o.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if g.Verbose {
			rt = &client.TraceTransport{Base: rt, Out: g.IO.ErrOut}
		}
		return g.steps.transport(rt) // what Ctrl-C or --timeout stopped (steps.go)
	}
	return client.NewHTTPClient(o)
}

// loadCAFile returns the system roots plus the PEM certificates of --ca-file.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--ca-file: %v: give a readable PEM file of CA certificates", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--ca-file %s holds no PEM certificate: give the CA certificate (-----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// sdk returns the registration client.
func (g *GlobalOptions) sdk() *client.Client {
	v := g.Build.Version
	if v == "" {
		v = "dev"
	}
	return &client.Client{HTTPClient: g.httpClient(), UserAgent: "dcrctl/" + v}
}

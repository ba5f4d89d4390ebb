package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/dcrctl/dcrctl/client"
	"github.com/dcrctl/dcrctl/client/registrar"
)

// dryRequest is what register --dry-run prints: the registration request as it would be
// sent, secrets redacted by package client's one rule (client/secrets.go).
type dryRequest struct {
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Headers      map[string]string `json:"headers"`
	Body         json.RawMessage   `json:"body"`
	InitialToken string            `json:"initial_token"` // where it would come from, in words
}

// errDryRun stops the request in the transport: it is built, never sent.
var errDryRun = errors.New("dry run: not sent")

// captureTransport records the request instead of sending it.
type captureTransport struct{ req *http.Request }

func (t *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.req = r
	return nil, errDryRun
}

// registerDryRun builds the registration request exactly as register would (the same
// registrar and client code), records it in the transport and prints it. No initial access
// token is fetched or spent and nothing is stored; only discovery, a read, is sent (none with
// --registration-endpoint and no issuer).
func registerDryRun(ctx context.Context, opts *registerOptions) error {
	g := opts.G
	if g.Output == "env" {
		return usageErrorf("-o env: register --dry-run prints table, json or yaml")
	}
	if err := g.fromResource(ctx); err != nil { // --resource: a read, as in register
		return err
	}
	issuer, md, err := opts.request()
	if err != nil {
		return err
	}
	tok := opts.Token // a copy: source fills in from the profile
	src, err := tok.source(g)
	if err != nil {
		return err
	}
	meta, err := g.serverMetadata(ctx)
	if err != nil {
		return err
	}
	if meta.RegistrationEndpoint == "" {
		return fmt.Errorf("%s advertises no registration_endpoint: registration is disabled there, or its discovery leaves the endpoint out (give it with --registration-endpoint URL)", issuer)
	}
	placeholder := "" // never a real token: it is redacted anyway
	if src.kind != "" {
		placeholder = "dry-run-placeholder"
	}
	capture := &captureTransport{}
	sdk := *g.sdk()
	sdk.HTTPClient = &http.Client{Transport: capture}
	_, err = registrar.New(&sdk, nil, registrar.Options{}).Register(ctx, registrar.RegisterRequest{Issuer: issuer,
		Endpoint: meta.RegistrationEndpoint, InitialAccessToken: placeholder, Template: opts.Template, Metadata: md, Resource: g.Resource})
	if !errors.Is(err, errDryRun) || capture.req == nil {
		return err // the request could not be built (bad metadata, bad endpoint)
	}
	d, err := dryRequestOf(capture.req, src.what)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.IO.ErrOut, "dry run: nothing was sent to the registration endpoint and nothing was stored; the initial access token would come from %s (not fetched)\n", src.what)
	return writeData(g.IO.Out, g.Output, d, d.write)
}

func dryRequestOf(r *http.Request, token string) (dryRequest, error) {
	d := dryRequest{Method: r.Method, URL: client.RedactURL(r.URL), Headers: map[string]string{}, InitialToken: token}
	for k, vs := range r.Header {
		d.Headers[k] = client.RedactHeader(k, strings.Join(vs, ", "))
	}
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return d, err
		}
		data, err := io.ReadAll(body)
		if err != nil {
			return d, err
		}
		d.Body = client.RedactJSON(data)
	}
	return d, nil
}

// write prints the request as HTTP/1.1 shows it: request line, headers, a blank line, the body.
func (d dryRequest) write(w io.Writer) error {
	fmt.Fprintf(w, "%s %s\n", d.Method, d.URL)
	keys := make([]string, 0, len(d.Headers))
	for k := range d.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %s\n", k, d.Headers[k])
	}
	var body bytes.Buffer
	if len(d.Body) > 0 {
		if err := json.Indent(&body, d.Body, "", "  "); err != nil {
			return err
		}
		body.WriteByte('\n')
	}
	_, err := fmt.Fprintf(w, "\n%s", body.Bytes())
	return err
}

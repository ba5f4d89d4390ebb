package cmd

import (
	"context"
	"fmt"
	"net"

	"github.com/dcrctl/dcrctl/testserver"
)

// quickstartServer is the embedded server's address and bootstrap client.
type quickstartServer struct {
	issuer    string
	bootstrap testserver.ClientConfig
}

// startQuickstartServer runs testserver on a free loopback port with the default
// configuration plus the quickstart's template and rotation on every read.
func startQuickstartServer(ctx context.Context, db string) (quickstartServer, func(), error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return quickstartServer{}, nil, fmt.Errorf("listen on a loopback port: %w", err)
	}
	cfg := testserver.DefaultConfig()
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.DBPath = db
	cfg.RotateRegistrationToken = testserver.RotateOnReadAndUpdate
	cfg.RotateClientSecret = testserver.RotateOnReadAndUpdate
	cfg.Templates = append(cfg.Templates, testserver.TemplateConfig{
		ID: quickstartTemplate,
		Metadata: map[string]any{
			"client_name":                "Service (template " + quickstartTemplate + ")",
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []any{"client_credentials"},
			"scope":                      "profile",
		},
	})
	srv, err := testserver.New(cfg)
	if err != nil {
		ln.Close()
		return quickstartServer{}, nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(sctx, ln)
	}()
	stop := func() {
		cancel()
		<-done
		srv.Close()
	}
	eff := srv.Config()
	return quickstartServer{issuer: srv.Issuer(), bootstrap: eff.Clients[0]}, stop, nil
}

package cmd

import (
	"context"
	"sync"
	"time"
)

// issuerReachTimeout bounds the discovery request status sends to each issuer.
const issuerReachTimeout = 5 * time.Second

// reachIssuers asks every issuer for its discovery document, all at once, each bounded by
// issuerReachTimeout: a read, with no credential. An empty issuer (a credential registered
// with explicit endpoints only) is not asked.
func (v *statusView) reachIssuers(ctx context.Context, g *GlobalOptions) {
	var wg sync.WaitGroup
	for i := range v.Issuers {
		is := &v.Issuers[i]
		if is.Issuer == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, issuerReachTimeout)
			defer cancel()
			_, err := g.sdk().Discover(ctx, is.Issuer)
			ok := err == nil
			is.Reachable = &ok
			if err != nil {
				is.Problem = withAdvice(err).Error()
			}
		}()
	}
	wg.Wait()
}

package keystore

import (
	"context"
	"fmt"
	"testing"
)

func benchStore(b *testing.B, n int) Store {
	s, err := Open(KindFile, Options{ConfigDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := s.Put(context.Background(), sample(fmt.Sprintf("c%03d", i), 1)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkFileStorePut measures a rotation with 50 credentials in the index: three index
// writes (each fsynced and renamed) and two of the secrets file.
func BenchmarkFileStorePut(b *testing.B) {
	s := benchStore(b, 50)
	ctx := context.Background()
	gen := 0
	for b.Loop() {
		gen++
		if err := s.Put(ctx, sample("c000", gen)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileStoreGet(b *testing.B) {
	s := benchStore(b, 50)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.Get(ctx, "c025"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileStoreList(b *testing.B) {
	s := benchStore(b, 50)
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

package maglev_test

import "github.com/dataplane-go/dataplane/flow"

func hashBytes(b []byte, seed uint64) uint64 { return flow.Hash64(b, seed) }

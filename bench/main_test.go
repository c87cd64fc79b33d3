package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/dataplane-go/dataplane/internal/traffic"
)

// TestMain says once, on stderr, when the captures are missing: without
// them every benchmark on captured traffic skips, and a skip shows only
// with -v, so a plain -bench run would otherwise print the few rows that
// need no captures and PASS.
func TestMain(m *testing.M) {
	if os.Getenv(traffic.EnvDir) == "" {
		fmt.Fprintf(os.Stderr, "bench: %s is not set: the benchmarks and tests on captured traffic skip; point it at a directory of pcap/pcapng files\n", traffic.EnvDir)
	}
	os.Exit(m.Run())
}

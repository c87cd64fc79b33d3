// Command probe exits 0 when BPF programs can be loaded and test-run on
// this machine, and 1 (saying why) when they cannot. CI uses it to decide
// whether kernel tests are required.
package main

import (
	"fmt"
	"os"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

func main() {
	if err := kerneltest.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "probe: BPF programs cannot run here: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("probe: BPF programs load and run")
}

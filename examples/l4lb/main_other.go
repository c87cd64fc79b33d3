//go:build !linux

// Command l4lb runs on Linux only (network namespaces, XDP).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "l4lb: needs Linux (network namespaces and XDP)")
	os.Exit(1)
}

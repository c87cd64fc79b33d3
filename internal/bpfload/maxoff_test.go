package bpfload

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestMaxOff: MaxOff is the kernels' DP_MAX_OFF, read from parsing.h.
func TestMaxOff(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "bpf", "include", "parsing.h"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#define DP_MAX_OFF (0x[0-9a-fA-F]+|[0-9]+)\s*$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("parsing.h defines no DP_MAX_OFF")
	}
	want, err := strconv.ParseUint(string(m[1]), 0, 32)
	if err != nil {
		t.Fatal(err)
	}
	if MaxOff != want {
		t.Errorf("MaxOff %#x, DP_MAX_OFF %#x", MaxOff, want)
	}
}

package bpfload_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// TestReprefix: the package's prefix is replaced, not repeated; an error
// without it gets the kernel's prefix in front; the result still matches
// the original error and its sentinels.
func TestReprefix(t *testing.T) {
	sentinel := errors.New("x: invalid parameters")
	err := fmt.Errorf("%w: cells must be at least 1, got 0", sentinel)
	got := bpfload.Reprefix(err, "x: ", "x kernel: ")
	if want := "x kernel: invalid parameters: cells must be at least 1, got 0"; got.Error() != want {
		t.Errorf("Reprefix: %q, want %q", got, want)
	}
	if !errors.Is(got, sentinel) || !errors.Is(got, err) {
		t.Errorf("Reprefix(%v) does not wrap it", err)
	}
	other := errors.New("cells must be at least 1")
	if got := bpfload.Reprefix(other, "x: ", "x kernel: ").Error(); got != "x kernel: cells must be at least 1" {
		t.Errorf("Reprefix of an error without the prefix: %q", got)
	}
}

//go:build linux

package xdp

import (
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
)

// After Close every method fails (the memory-mapped filter used to outlive
// it, so WriteFilter and Filter went on working on a freed kernel), Close
// may be called again, and a nil filter is an error, not a panic.
func TestKernel_UseAfterClose(t *testing.T) {
	p := bloom.ParamsFor(1000, 0.01)
	k := loadKernel(t, Options{Params: p})
	if err := k.WriteFilter(nil); err == nil {
		t.Error("WriteFilter(nil): no error")
	}
	if err := k.WriteBlocked(nil); err == nil {
		t.Error("WriteBlocked(nil): no error")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	f := bloom.MustNew(p)
	f.Add([]byte("x"))
	if err := k.WriteFilter(f); err == nil {
		t.Error("WriteFilter after Close: no error")
	}
	if _, err := k.Filter(); err == nil {
		t.Error("Filter after Close: no error")
	}
	if _, err := k.Stats(); err == nil {
		t.Error("Stats after Close: no error")
	}
}

//go:build linux

package xdp

import (
	"os"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_RingSize: the ring buffer has Options.EventsBytes (4 MiB by
// default) with Options.Events, and one page without it, where the kernel
// sends nothing: it used to get EventsBytes regardless, so a kernel that
// only counts held a 4 MiB ring of kernel memory by default, and 1 GiB
// with EventsBytes 2^30.
func TestKernel_RingSize(t *testing.T) {
	page := uint32(os.Getpagesize())
	for _, c := range []struct {
		o    Options
		want uint32
	}{
		{Options{Events: true}, DefaultEventsBytes},
		{Options{Events: true, EventsBytes: 1 << 16}, 1 << 16},
		{Options{}, page},
		{Options{EventsBytes: 1 << 30}, page},
	} {
		if err := c.o.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", c.o, err)
		}
		spec, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		if err := Configure(spec, c.o); err != nil {
			t.Fatal(err)
		}
		if got := spec.Maps[flowMapFlowEvents].MaxEntries; got != c.want {
			t.Errorf("Configure(%+v): ring of %d bytes, want %d", c.o, got, c.want)
		}
	}
	bad := Options{Events: true, EventsBytes: 3}
	_, lerr := Load(bad)
	if err := bad.Validate(); err == nil || lerr == nil || err.Error() != lerr.Error() || !strings.Contains(err.Error(), "EventsBytes must be a power of two") {
		t.Errorf("Validate(%+v): %v; want Load's error (%v), on EventsBytes", bad, err, lerr)
	}
	kerneltest.Require(t)
	k, err := Load(Options{EventsBytes: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if got := k.objs.FlowEvents.MaxEntries(); got != page {
		t.Errorf("loaded without Events: ring of %d bytes, want %d", got, page)
	}
}

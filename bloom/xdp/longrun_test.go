//go:build linux

package xdp

import (
	"fmt"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/bpfload"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_RunLongFrame: Run and Bench refuse a frame longer than what a
// test run hands XDP as one linear buffer (bpfload.MaxFrame), with an
// error naming the bound. Newer kernels accept such a frame but show the
// program only its first MaxFrame bytes: an IPv6 packet whose destination
// options end past them was truncated for the kernel, which passed it and
// counted it malformed, while the Model, given the same frame, parsed it
// and dropped it as a member of the blocklist. Longer frames still came
// back as the kernel's bare "cannot allocate memory".
func TestKernel_RunLongFrame(t *testing.T) {
	opts := Options{Params: bloom.ParamsFor(1000, 0.01)}
	k := loadKernel(t, opts)
	max := bpfload.MaxFrame()
	opt := make([]byte, 2046) // 2048-byte destination options, Pad1 throughout
	frame := pkt.Frame{
		IP6: &pkt.IPv6{Src: pkt.Addr("2001:db8::1"), Dst: pkt.Addr("2001:db8::2"),
			Ext: []pkt.Ext{{Type: pkt.ExtDstOpts, Data: opt}, {Type: pkt.ExtDstOpts, Data: opt}}},
		UDP: &pkt.UDP{SrcPort: 1234, DstPort: 53}, Payload: []byte("query"),
	}.Bytes()
	info, err := flow.Parse(frame)
	if err != nil || int(info.L4Offset) <= max {
		t.Fatalf("test frame: parse %v, transport header at %d, want it past %d", err, info.L4Offset, max)
	}
	m := model(opts)
	m.Filter.Add(KeyBytes(&info.Key, opts.Key))
	if err := k.WriteFilter(m.Filter); err != nil {
		t.Fatal(err)
	}
	for _, f := range [][]byte{frame, make([]byte, 80000)} {
		want := fmt.Sprintf("bloom kernel: test run frames must be at most %d bytes (what a test run gives XDP in one buffer), got %d", max, len(f))
		if v, err := k.Run(f); err == nil || err.Error() != want {
			t.Errorf("Run on %d bytes: verdict %d, %v, want %q (the model's verdict on the frame: %d)", len(f), v, err, want, runModel(t, m, f))
		}
		if _, err := k.Bench(f, 1); err == nil || err.Error() != want {
			t.Errorf("Bench on %d bytes: %v, want %q", len(f), err, want)
		}
	}
}

//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/dataplane-go/dataplane/flow"
	flowxdp "github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/flowradar"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

const xdpPass = 2

func loadKernel(tb testing.TB, p flowradar.Params, perCPU bool) *Kernel {
	tb.Helper()
	kerneltest.Require(tb)
	if perCPU {
		// Per-CPU tables add up to the Go table only when every packet of
		// a flow lands on one CPU (as RSS ensures on a NIC); unpinned, the
		// test's thread migrates and splits flows, which is the documented
		// multi-CPU behaviour, not a mismatch.
		kerneltest.PinCPU(tb)
	}
	k, err := Load(Options{Params: p, PerCPU: perCPU})
	if err != nil {
		tb.Fatalf("%+v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

// TestLayout pins the kernel's cell to flowradar.Cell, its per-CPU chunk
// to 64 of them, and its limits to the Go constants.
func TestLayout(t *testing.T) {
	var c flowradarFlowradarCell
	var g flowradar.Cell
	if unsafe.Sizeof(c) != flowradar.CellBytes || unsafe.Sizeof(g) != flowradar.CellBytes {
		t.Fatalf("struct flowradar_cell is %d bytes, flowradar.Cell %d, CellBytes %d", unsafe.Sizeof(c), unsafe.Sizeof(g), flowradar.CellBytes)
	}
	for _, o := range []struct {
		name      string
		got, want uintptr
	}{
		{"flow_xor", unsafe.Offsetof(c.FlowXor), unsafe.Offsetof(g.FlowXOR)},
		{"flow_count", unsafe.Offsetof(c.FlowCount), unsafe.Offsetof(g.FlowCount)},
		{"packet_count", unsafe.Offsetof(c.PacketCount), unsafe.Offsetof(g.PacketCount)},
		{"byte_count", unsafe.Offsetof(c.ByteCount), unsafe.Offsetof(g.ByteCount)},
	} {
		if o.got != o.want {
			t.Errorf("flowradar_cell.%s at %d, flowradar.Cell has it at %d", o.name, o.got, o.want)
		}
	}
	// A per-CPU chunk is 64 cells with no padding: its size is the map's
	// value size and, a multiple of 8, the stride of each CPU's copy.
	if n := unsafe.Sizeof(flowradarFlowradarCellChunk{}); n != cellChunk*flowradar.CellBytes || n%8 != 0 {
		t.Errorf("struct flowradar_cell_chunk is %d bytes, want %d cells of %d", n, cellChunk, flowradar.CellBytes)
	}
	if len(c.FlowXor)*8 != flowradar.XORBytes {
		t.Errorf("FR_XOR_WORDS*8 = %d, XORBytes %d", len(c.FlowXor)*8, flowradar.XORBytes)
	}
	if n := int(flowradarFlowradarStatFR_STAT_NEW_FLOW); n != len(Stats{}.Outcomes) {
		t.Errorf("FR_STAT_NEW_FLOW is %d, Go has %d outcomes", n, len(Stats{}.Outcomes))
	}
	// FR_MAX_K and FR_MAX_FK (8 and 32) are flowradar.MaxHashes and
	// MaxFilterHashes; the kernel's first cell index is FR_MAX_FK.
	if flowradar.MaxHashes != 8 || flowradar.MaxFilterHashes != 32 {
		t.Errorf("FR_MAX_K 8, FR_MAX_FK 32; Go has %d and %d", flowradar.MaxHashes, flowradar.MaxFilterHashes)
	}
}

// TestConfigure_Sizes: map sizes and constants are the Go parameters, in
// both modes; the maps of the other mode keep one entry.
func TestConfigure_Sizes(t *testing.T) {
	p := flowradar.Params{Cells: 400, Hashes: 4, FilterBits: 1024, FilterHashes: 7, Seed: 99}
	for _, perCPU := range []bool{false, true} {
		spec, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		if err := Configure(spec, Options{Params: p, PerCPU: perCPU}); err != nil {
			t.Fatal(err)
		}
		filters := []string{flowradarMapFlowradarFilter0, flowradarMapFlowradarFilter1}
		cells := []string{flowradarMapFlowradarCells0, flowradarMapFlowradarCells1}
		pfilters := []string{flowradarMapFlowradarPcpuFilter0, flowradarMapFlowradarPcpuFilter1}
		pcells := []string{flowradarMapFlowradarPcpuCells0, flowradarMapFlowradarPcpuCells1}
		if perCPU {
			filters, pfilters = pfilters, filters
			cells, pcells = pcells, cells
		}
		for i := range 2 {
			if m := spec.Maps[filters[i]]; m.MaxEntries != 2 || m.ValueSize != 64 {
				t.Errorf("perCPU=%v %s: %d entries of %d bytes, want 2 of 64", perCPU, filters[i], m.MaxEntries, m.ValueSize)
			}
			// Per CPU, 64 cells an element: 400 cells in 7 chunks, the
			// last holding 16.
			entries, size := uint32(400), uint32(flowradar.CellBytes)
			if perCPU {
				entries, size = 7, 64*flowradar.CellBytes
			}
			if m := spec.Maps[cells[i]]; m.MaxEntries != entries || m.ValueSize != size {
				t.Errorf("perCPU=%v %s: %d entries of %d bytes, want %d of %d", perCPU, cells[i], m.MaxEntries, m.ValueSize, entries, size)
			}
			if spec.Maps[pfilters[i]].MaxEntries != 1 || spec.Maps[pcells[i]].MaxEntries != 1 {
				t.Errorf("perCPU=%v: maps of the other mode not shrunk", perCPU)
			}
		}
		var seed uint64
		var k, sub, fk, blocks, pc uint32
		spec.Variables[flowradarVarFrSeed].Get(&seed)
		spec.Variables[flowradarVarFrK].Get(&k)
		spec.Variables[flowradarVarFrSub].Get(&sub)
		spec.Variables[flowradarVarFrFk].Get(&fk)
		spec.Variables[flowradarVarFrBlocks].Get(&blocks)
		spec.Variables[flowradarVarFrPercpu].Get(&pc)
		if seed != 99 || k != 4 || sub != 100 || fk != 7 || blocks != 2 || (pc == 1) != perCPU {
			t.Errorf("constants seed %d k %d sub %d fk %d blocks %d percpu %d", seed, k, sub, fk, blocks, pc)
		}
	}
	spec, _ := Spec()
	p.Cells = 401
	if err := Configure(spec, Options{Params: p}); err == nil {
		t.Error("cells not a multiple of hashes accepted")
	}
}

type fixture struct {
	name    string
	frame   []byte
	counted bool // the encoder counts the packet
}

func fixtures() []fixture {
	return []fixture{
		// 10.0.0.1:40000 > 10.0.0.2:443 TCP SYN
		{"ipv4-tcp", pkt.TCP4("10.0.0.1:40000", "10.0.0.2:443", 0x02, []byte("hello")), true},
		// 10.0.0.1:5353 > 10.0.0.2:53 UDP
		{"ipv4-udp", pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1, 2, 3, 4}), true},
		// 10.0.0.1 > 10.0.0.2 ICMP echo request: zero ports
		{"ipv4-icmp", pkt.ICMP4("10.0.0.1", "10.0.0.2", 8, 0, []byte("ping")), true},
		// [2001:db8::1]:40000 > [2001:db8::2]:443 TCP ACK
		{"ipv6-tcp", pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", 0x10, nil), true},
		// [2001:db8::1]:5353 > [2001:db8::2]:53 UDP, a 37-byte key
		{"ipv6-udp", pkt.UDP6("[2001:db8::1]:5353", "[2001:db8::2]:53", []byte("q")), true},
		// An Ethernet header claiming IPv4 and three bytes: truncated
		{"truncated-ipv4", append(pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)[:14], 0x45, 0, 0), false},
		// EtherType 0x0806 (ARP) with a short body: not IP
		{"arp", append(append(pkt.UDP4("10.0.0.1:1", "10.0.0.2:2", nil)[:12], 0x08, 0x06), make([]byte, 28)...), false},
	}
}

// TestKernel_Fixtures runs each fixture through the kernel and the Go
// model, twice (a new flow, then a known one): same verdict, same stats,
// same table cell for cell. Filter hashes 1 to 16 take the kernel's
// straight-line copies of the filter test, 17 and 32 its loop.
func TestKernel_Fixtures(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		for _, fk := range []int{1, 7, 10, 14, 16, 17, 32} {
			t.Run(fmt.Sprintf("percpu=%v/fk=%d", perCPU, fk), func(t *testing.T) { testFixtures(t, perCPU, fk) })
		}
	}
}

func testFixtures(t *testing.T, perCPU bool, fk int) {
	p := flowradar.Params{Cells: 64, Hashes: 4, FilterBits: 1024, FilterHashes: fk, Seed: 0xf10}
	k := loadKernel(t, p, perCPU)
	for _, fx := range fixtures() {
		e, _ := k.Epoch()
		if err := k.Clear(e); err != nil {
			t.Fatal(err)
		}
		k.ResetStats()
		for i := 0; i < 2; i++ {
			if v, _ := kerneltest.Run(t, k.Program(), fx.frame); v != xdpPass {
				t.Fatalf("%s: verdict %d, want XDP_PASS", fx.name, v)
			}
		}
		got, err := k.Read(e)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := flowradar.NewTable(p)
		outcomes := Encode(want, [][]byte{fx.frame, fx.frame})
		if !got.Equal(want) {
			t.Errorf("%s: kernel table differs from the Go encoder", fx.name)
		}
		st, _ := k.Stats()
		newFlows := uint64(0)
		if fx.counted {
			newFlows = 1
		}
		if st.Outcomes != outcomes || st.NewFlows != newFlows || st.Missing != 0 {
			t.Errorf("%s: stats %+v, Go outcomes %v", fx.name, st, outcomes)
		}
		if want.Flows() != int(newFlows) {
			t.Errorf("%s: %d flows encoded, want %d", fx.name, want.Flows(), newFlows)
		}
		if fx.counted {
			d, err := got.Decode()
			info, _ := flow.Parse(fx.frame)
			if err != nil || len(d.Flows) != 1 || d.Flows[0].Key != info.Key || d.Flows[0].Packets != 2 || d.Flows[0].Bytes != 2*uint64(len(fx.frame)) {
				t.Errorf("%s: decoded %+v, err %v", fx.name, d.Flows, err)
			}
		}
	}
}

// TestKernel_Epochs: Flip switches the epoch the kernel writes and returns
// the old one, which stays readable until the next Flip; the epoch the
// kernel moves to starts empty (each returned table equals the Go
// encoding of that epoch's frames alone).
func TestKernel_Epochs(t *testing.T) {
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) { testEpochs(t, perCPU) })
	}
}

func testEpochs(t *testing.T, perCPU bool) {
	p := flowradar.ParamsFor(100, 5)
	k := loadKernel(t, p, perCPU)
	a := pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte{1})
	b := pkt.TCP6("[2001:db8::1]:1", "[2001:db8::2]:2", 0x02, nil)
	for epoch := 0; epoch < 4; epoch++ {
		if e, _ := k.Epoch(); e != epoch%2 {
			t.Fatalf("epoch %d: kernel writes %d", epoch, e)
		}
		frames := [][]byte{a, a, b}
		if epoch%2 == 1 {
			frames = [][]byte{b}
		}
		for _, f := range frames {
			kerneltest.Run(t, k.Program(), f)
		}
		got, want := flipWithModel(t, k, p, frames)
		if !got.Equal(want) {
			t.Fatalf("epoch %d: flipped table differs from Go", epoch)
		}
		again, err := k.Read(epoch % 2)
		if err != nil || !again.Equal(want) {
			t.Fatalf("epoch %d changed after the flip (%v)", epoch, err)
		}
	}
}

// TestKernel_Replay replays every packet of every shared capture through
// the kernel; after each capture the kernel's filter and table equal the
// Go encoder's, field for field, and decoding the kernel's table gives
// exactly the capture's flows and their packet and byte counts.
//
// A second pass per mode uses a crowded filter (14 bits set per flow in 16
// blocks: flows share blocks and many are taken for known) and checks the
// tables alone, which then do not decode completely. The
// shared mode's "new for the CPU whose fetch-OR set a bit" cannot differ
// from Go on the one CPU a test run uses.
func TestKernel_Replay(t *testing.T) {
	crowded := flowradar.ParamsFor(40000, 0xf00d)
	crowded.FilterHashes, crowded.FilterBits = 14, 16*512
	for _, perCPU := range []bool{false, true} {
		t.Run(fmt.Sprintf("percpu=%v", perCPU), func(t *testing.T) {
			// every capture below the decode threshold
			testReplay(t, perCPU, flowradar.ParamsFor(40000, 0xcafe), true)
		})
		t.Run(fmt.Sprintf("percpu=%v/crowded-filter", perCPU), func(t *testing.T) { testReplay(t, perCPU, crowded, false) })
	}
}

func testReplay(t *testing.T, perCPU bool, p flowradar.Params, decode bool) {
	files := traffic.Files(t)
	if (perCPU || !decode) && testing.Short() {
		files = traffic.MainFiles(t) // per-CPU maps hold a copy per CPU to clear and read
	}
	k := loadKernel(t, p, perCPU)
	total, flows, known := 0, 0, 0
	for _, path := range files {
		var frames [][]byte
		for _, f := range traffic.Frames(t, path) {
			if len(f) >= kerneltest.MinFrame {
				frames = append(frames, kerneltest.Clip(f))
			}
		}
		for _, f := range frames {
			if v, _ := kerneltest.Run(t, k.Program(), f); v != xdpPass {
				t.Fatalf("%s: verdict %d", path, v)
			}
		}
		got, want := flipWithModel(t, k, p, frames)
		if !got.Equal(want) {
			t.Errorf("%s: kernel table after %d frames differs from the Go encoder", path, len(frames))
			continue
		}
		total += len(frames)
		exact := map[flow.Key][2]uint64{}
		for _, f := range frames {
			if info, err := flow.Parse(f); err == nil {
				c := exact[info.Key]
				exact[info.Key] = [2]uint64{c[0] + 1, c[1] + uint64(len(f))}
			}
		}
		if !decode {
			known += len(exact) - want.Flows() // new flows the filter took for known
			continue
		}
		d, err := got.Decode()
		if err != nil {
			t.Errorf("%s: decode: %v", path, err)
			continue
		}
		if len(d.Flows) != len(exact) {
			t.Errorf("%s: decoded %d flows, the capture has %d", path, len(d.Flows), len(exact))
		}
		for _, f := range d.Flows {
			if c, ok := exact[f.Key]; !ok || c != [2]uint64{f.Packets, f.Bytes} {
				t.Errorf("%s: flow %v decoded with %d packets %d bytes, capture has %v", path, f.Key, f.Packets, f.Bytes, c)
				break
			}
		}
		flows += len(exact)
	}
	if !decode {
		if known == 0 {
			t.Fatal("the crowded filter took no new flow for known: it tests nothing more")
		}
		t.Logf("%d frames of %d captures compared, %d new flows taken for known, zero mismatches allowed", total, len(files), known)
		return
	}
	t.Logf("%d frames, %d flows of %d captures compared, zero mismatches allowed", total, flows, len(files))
}

// TestKernel_OtherHashes: the kernel takes 1 to MaxHashes sub-tables, the
// replay above only the default 4 (which the kernel updates in
// straight-line code; other counts take its loop). Every frame of the main
// captures through kernels with 1, 3 and 8 sub-tables (the extremes, and
// one that is not a power of two), shared and per CPU, must give the Go
// encoder's table.
func TestKernel_OtherHashes(t *testing.T) {
	var frames [][]byte
	for _, f := range traffic.MainFrames(t) {
		if len(f) >= kerneltest.MinFrame {
			frames = append(frames, kerneltest.Clip(f))
		}
	}
	for _, c := range []struct {
		h      int
		perCPU bool
	}{{1, false}, {3, false}, {flowradar.MaxHashes, false}, {1, true}, {3, true}, {flowradar.MaxHashes, true}} {
		h := c.h
		t.Run(fmt.Sprintf("hashes=%d/percpu=%v", h, c.perCPU), func(t *testing.T) {
			p := flowradar.ParamsFor(20000, 0xbeef)
			p.Hashes = h
			p.Cells = (p.Cells + uint32(h) - 1) / uint32(h) * uint32(h)
			k := loadKernel(t, p, c.perCPU)
			for _, f := range frames {
				if v, _ := kerneltest.Run(t, k.Program(), f); v != xdpPass {
					t.Fatalf("verdict %d", v)
				}
			}
			got, want := flipWithModel(t, k, p, frames)
			if !got.Equal(want) {
				t.Fatalf("kernel table after %d frames differs from the Go encoder", len(frames))
			}
			// A lookup beyond the last sub-table would leave the table
			// right and count a missing cell.
			if st, err := k.Stats(); err != nil || st.Missing != 0 || st.NewFlows != uint64(want.Flows()) {
				t.Fatalf("stats %+v (%v), want no missing lookup and %d new flows", st, err, want.Flows())
			}
		})
	}
}

// BenchmarkKernelRead measures the collector's side of an epoch on a
// table sized for 40,000 flows: Read (the filter blocks and cells read
// back) and Flip (the other epoch cleared, then read), per-CPU and shared,
// each into a new table and into one kept from call to call (ReadInto,
// FlipInto).
func BenchmarkKernelRead(b *testing.B) {
	p := flowradar.ParamsFor(40000, 1)
	for _, perCPU := range []bool{false, true} {
		for _, op := range []string{"read", "read-into", "flip", "flip-into"} {
			b.Run(fmt.Sprintf("percpu=%v/op=%s", perCPU, op), func(b *testing.B) {
				k := loadKernel(b, p, perCPU)
				dst := flowradar.MustNew(p).Active()
				kerneltest.BenchMillis(b, op, func() error {
					var err error
					switch op {
					case "read":
						_, err = k.Read(0)
					case "read-into":
						err = k.ReadInto(0, dst)
					case "flip":
						_, err = k.Flip()
					default:
						err = k.FlipInto(dst)
					}
					return err
				})
			})
		}
	}
}

// BenchmarkKernel: the encoder on every frame of the main captures, all
// flows already known (a first pass ran), net of the XDP_DROP floor; the
// parse-only kernel of flow/xdp in the same run separates parsing from
// encoding.
func BenchmarkKernel(b *testing.B) {
	frames := traffic.MainFrames(b)
	var fs [][]byte
	for _, f := range frames {
		if len(f) >= kerneltest.MinFrame {
			fs = append(fs, kerneltest.Clip(f))
		}
	}
	p := flowradar.ParamsFor(40000, 1)
	for _, perCPU := range []bool{false, true} {
		k := loadKernel(b, p, perCPU)
		for _, f := range fs {
			kerneltest.Run(b, k.Program(), f)
		}
		b.Run(fmt.Sprintf("impl=flowradar/percpu=%v", perCPU), func(b *testing.B) { kerneltest.Bench(b, k.Program(), fs) })
	}
	b.Run("impl=parse-only", func(b *testing.B) {
		fk, err := flowxdp.Load(flowxdp.Options{})
		if err != nil {
			b.Fatal(err) // the encoder's kernels loaded above: so must the parser's
		}
		defer fk.Close()
		kerneltest.Bench(b, fk.Program(), fs)
	})
	b.Run("impl=go-encoder", func(b *testing.B) {
		t, _ := flowradar.NewTable(p)
		Encode(t, fs)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			Encode(t, fs)
			n += len(fs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
	})
}

// TestKernel_BadEpoch: there are two epochs, 0 and 1; Read and Clear
// reject any other number instead of using its low bit.
func TestKernel_BadEpoch(t *testing.T) {
	k := loadKernel(t, flowradar.ParamsFor(64, 1), false)
	for _, e := range []int{-1, 2, 7} {
		if _, err := k.Read(e); err == nil || !strings.Contains(err.Error(), "epoch must be 0 or 1") {
			t.Errorf("Read(%d): %v, want an error naming the epochs", e, err)
		}
		if err := k.Clear(e); err == nil || !strings.Contains(err.Error(), "epoch must be 0 or 1") {
			t.Errorf("Clear(%d): %v, want an error naming the epochs", e, err)
		}
	}
	for e := range 2 {
		if _, err := k.Read(e); err != nil {
			t.Errorf("Read(%d): %v", e, err)
		}
		if err := k.Clear(e); err != nil {
			t.Errorf("Clear(%d): %v", e, err)
		}
	}
}

// TestKernel_AfterClose: after Close every method that touches the maps
// says the kernel is closed (as bloom/xdp and cms/xdp do), and a second
// Close is harmless.
func TestKernel_AfterClose(t *testing.T) {
	kerneltest.Require(t)
	k, err := Load(Options{Params: flowradar.ParamsFor(64, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	_, e1 := k.Epoch()
	_, e2 := k.Read(0)
	e3 := k.Clear(1)
	_, e4 := k.Flip()
	_, e5 := k.Stats()
	e6 := k.ResetStats()
	_, e7 := k.Attach(1)
	_, e8 := k.ReadCPUs(0)
	_, e9 := k.FlipCPUs()
	_, e10 := k.Run(make([]byte, 64))
	_, e11 := k.Bench(make([]byte, 64), 1)
	for i, err := range []error{e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11} {
		if !errors.Is(err, errClosed) {
			t.Errorf("method %d after Close: %v, want %v", i+1, err, errClosed)
		}
	}
	if err := k.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestKernel_ZeroValue: the zero Kernel (not made by Load) answers as a
// closed one. Attach, Epoch, Flip, Stats and ResetStats used to panic on
// a nil map or program, Read blamed the zero Params, and Clear returned
// nil having cleared nothing. Options, Params and Program return zero
// values, and Close may be called twice.
func TestKernel_ZeroValue(t *testing.T) {
	kerneltest.Require(t)
	k := new(Kernel)
	for method, fn := range map[string]func() error{
		"Attach":     func() error { _, err := k.Attach(1 << 30); return err }, // no such interface
		"Epoch":      func() error { _, err := k.Epoch(); return err },
		"Read":       func() error { _, err := k.Read(0); return err },
		"ReadCPUs":   func() error { _, err := k.ReadCPUs(0); return err },
		"FlipCPUs":   func() error { _, err := k.FlipCPUs(); return err },
		"Clear":      func() error { return k.Clear(0) },
		"Flip":       func() error { _, err := k.Flip(); return err },
		"Stats":      func() error { _, err := k.Stats(); return err },
		"ResetStats": k.ResetStats,
		"Run":        func() error { _, err := k.Run(make([]byte, 64)); return err },
		"Bench":      func() error { _, err := k.Bench(make([]byte, 64), 1); return err },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("zero Kernel: %s panics: %v", method, r)
				}
			}()
			if err := fn(); !errors.Is(err, errClosed) {
				t.Errorf("zero Kernel: %s: %v, want %v", method, err, errClosed)
			}
		}()
	}
	if p := k.Program(); p != nil {
		t.Errorf("zero Kernel: Program %v, want nil", p)
	}
	if k.Options() != (Options{}) || k.Params() != (flowradar.Params{}) {
		t.Errorf("zero Kernel: Options %v, Params %v, want zero", k.Options(), k.Params())
	}
	for range 2 {
		if err := k.Close(); err != nil {
			t.Errorf("zero Kernel: Close: %v", err)
		}
	}
}

// Configure refuses a nil spec with an error naming it (it used to panic
// once the options passed); invalid options are still reported first.
func TestConfigure_NilSpec(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Configure(nil, ok) panics: %v", r)
		}
	}()
	err := Configure(nil, Options{Params: flowradar.ParamsFor(64, 1)})
	if want := "flowradar kernel: Configure of a nil spec (use Spec)"; err == nil || err.Error() != want {
		t.Errorf("Configure(nil, ok): %v, want %q", err, want)
	}
	// The Params error, with the kernel's prefix in place of flowradar's.
	err = Configure(nil, Options{})
	if err == nil || !errors.Is(err, flowradar.ErrParams) || !strings.HasPrefix(err.Error(), "flowradar kernel: invalid parameters") {
		t.Errorf("Configure(nil, {}): %v, want the Params error, once prefixed", err)
	}
	if verr := (Options{}).Validate(); verr == nil || err == nil || verr.Error() != err.Error() || !errors.Is(verr, flowradar.ErrParams) {
		t.Errorf("Options{}.Validate(): %v, want Configure's error", verr)
	}
	if err := (Options{Params: flowradar.ParamsFor(64, 1)}).Validate(); err != nil {
		t.Errorf("Validate of good options: %v", err)
	}
}

// flipWithModel ends k's epoch and returns its table with the Go encoder's
// table of the same frames.
func flipWithModel(t *testing.T, k *Kernel, p flowradar.Params, frames [][]byte) (got, want *flowradar.Table) {
	t.Helper()
	got, err := k.Flip()
	if err != nil {
		t.Fatal(err)
	}
	want, _ = flowradar.NewTable(p)
	Encode(want, frames)
	return got, want
}

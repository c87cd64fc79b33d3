// Package kerneltest runs the reference kernels in tests: it loads a
// collection or skips when this machine cannot run BPF programs, runs a
// program on frames with BPF_PROG_TEST_RUN, and benchmarks a program against
// an XDP_DROP floor measured in the same run.
//
// Without BPF privileges (or on an OS without BPF) tests skip, unless the
// environment sets DATAPLANE_REQUIRE_KERNEL=1, in which case a skip becomes a
// failure: CI sets it wherever a probe shows that programs load. Tests
// that also make a network namespace ([LoopbackUDP]) skip likewise
// without CAP_SYS_ADMIN ([RequireNetns]). Any other load error, a
// verifier rejection above all, fails the test with the verifier's log.
package kerneltest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// EnvRequire is the environment variable that turns a skip into a failure.
const EnvRequire = "DATAPLANE_REQUIRE_KERNEL"

// MaxFrame is the largest frame BPF_PROG_TEST_RUN gives an XDP program in
// one buffer, [bpfload.MaxFrame]: 3520 bytes with 4 KiB pages (3328 on
// s390x). Longer
// frames are cut to MaxFrame by [Run]; the kernel only ever sees the linear
// part of a frame.
var MaxFrame = bpfload.MaxFrame()

// MinFrame is the smallest XDP input: an Ethernet header.
const MinFrame = 14

var probe struct {
	once sync.Once
	err  error
}

// Available reports whether BPF programs can be loaded and run here, and
// if not, why.
func Available() error {
	probe.once.Do(func() {
		_ = rlimit.RemoveMemlock()
		prog, err := newReturn(2) // XDP_PASS
		if errors.Is(err, os.ErrPermission) {
			// cilium/ebpf blames MEMLOCK for any EPERM, but the limit
			// is lifted above: a privilege is missing.
			err = fmt.Errorf("%w (loading an XDP program takes root, or CAP_BPF and CAP_NET_ADMIN; the kernels' parser also CAP_PERFMON)", err)
		}
		if err != nil {
			probe.err = err
			return
		}
		defer prog.Close()
		if _, _, err := prog.Test(make([]byte, MinFrame)); err != nil {
			probe.err = err
			return
		}
		// The kernels' parser subtracts packet pointers, which the
		// verifier allows only with CAP_PERFMON (or root): with CAP_BPF
		// alone it refuses every kernel. Without this probe their tests
		// would fail on that refusal instead of skipping.
		diff, err := newPointerDiff()
		if err != nil {
			probe.err = fmt.Errorf("a program that subtracts packet pointers, as the kernels' parser does, does not load (the verifier allows it with CAP_PERFMON or root): %w", err)
			return
		}
		diff.Close()
	})
	return probe.err
}

// Required reports whether the environment requires the kernel tests to
// run: DATAPLANE_REQUIRE_KERNEL set to anything but a false value of
// strconv.ParseBool ("0", "f", "false", ...). A value it does not read
// ("yes") requires them too: a mistyped requirement must not turn into
// silent skips.
func Required() bool { return required(os.Getenv(EnvRequire)) }

func required(v string) bool {
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return b || err != nil
}

// Require skips tb when BPF programs cannot run here, or fails it when
// DATAPLANE_REQUIRE_KERNEL=1.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		Skip(tb, fmt.Sprintf("BPF programs cannot run here: %v", err))
	}
}

// Skip skips tb with msg, or fails it when DATAPLANE_REQUIRE_KERNEL=1:
// the rule for a kernel test that cannot run for want of a privilege.
func Skip(tb testing.TB, msg string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s (%s=%s requires the kernel tests to run)", msg, EnvRequire, os.Getenv(EnvRequire))
	}
	tb.Skip(msg)
}

// Load sets the load-time constants consts (names of `volatile const`
// globals) on spec, then loads it into objs, a pointer to a bpf2go Objects
// struct. It skips as [Require] does when BPF is unavailable, and fails
// with the verifier log on any other error. Close objs with tb.Cleanup.
func Load(tb testing.TB, spec *ebpf.CollectionSpec, consts map[string]any, objs any) {
	tb.Helper()
	Require(tb)
	if err := bpfload.SetVars(spec, "kerneltest", consts); err != nil {
		tb.Fatal(err)
	}
	err := bpfload.ForKernel(spec).LoadAndAssign(objs, &ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogSizeStart: 1 << 20},
	})
	if err == nil {
		if c, ok := objs.(interface{ Close() error }); ok {
			tb.Cleanup(func() { c.Close() })
		}
		return
	}
	if errors.Is(err, ebpf.ErrNotSupported) {
		Skip(tb, fmt.Sprintf("kernel does not support this program: %v", err))
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		tb.Fatalf("verifier rejected the program: %+v", ve)
	}
	tb.Fatalf("load: %v", err)
}

// Run runs prog once on frame and returns its verdict and the frame as the
// program left it. Frames longer than [MaxFrame] are cut to MaxFrame (the
// caller compares against the same bytes: use [Clip]); frames shorter than
// [MinFrame] are an error of the caller.
func Run(tb testing.TB, prog *ebpf.Program, frame []byte) (uint32, []byte) {
	tb.Helper()
	frame = fit(tb, frame)
	out := make([]byte, len(frame)+256)
	opts := ebpf.RunOptions{Data: frame, DataOut: out, Repeat: 1}
	ret, err := prog.Run(&opts)
	if err != nil {
		tb.Fatalf("test run on a %d-byte frame: %v", len(frame), err)
	}
	return ret, opts.DataOut
}

// Clip returns frame cut to [MaxFrame] bytes: what the kernel sees of it.
func Clip(frame []byte) []byte {
	if len(frame) > MaxFrame {
		return frame[:MaxFrame]
	}
	return frame
}

// fit returns frame as [Run] and [RunRepeat] give it to the kernel, cut
// by [Clip], and fails tb for a frame shorter than [MinFrame].
func fit(tb testing.TB, frame []byte) []byte {
	tb.Helper()
	frame = Clip(frame)
	if len(frame) < MinFrame {
		tb.Fatalf("kerneltest: XDP needs at least %d bytes, got %d", MinFrame, len(frame))
	}
	return frame
}

// Drop returns an XDP program that drops every packet: the floor that
// kernel benchmarks are measured against. It skips like [Require].
func Drop(tb testing.TB) *ebpf.Program {
	tb.Helper()
	Require(tb)
	prog, err := newReturn(1) // XDP_DROP
	if err != nil {
		tb.Fatalf("load XDP_DROP floor: %v", err)
	}
	tb.Cleanup(func() { prog.Close() })
	return prog
}

func newReturn(verdict int32) (*ebpf.Program, error) {
	return ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, verdict),
			asm.Return(),
		},
		License: "Dual BSD/GPL",
	})
}

// newPointerDiff returns an XDP program that computes data_end - data and
// passes the packet.
func newPointerDiff() (*ebpf.Program, error) {
	return ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.XDP,
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // xdp_md.data
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), // xdp_md.data_end
			asm.Sub.Reg(asm.R3, asm.R2),
			asm.Mov.Imm(asm.R0, 2), // XDP_PASS
			asm.Return(),
		},
		License: "Dual BSD/GPL",
	})
}

// Repeat is how many times [Bench] runs a program on one frame in one
// BPF_PROG_TEST_RUN call: enough that the kernel's clock reads vanish in
// the average.
const Repeat = 512

// Rounds is how many times [Bench] measures each frame, keeping the least
// time (see bench).
const Rounds = 3

// Bench measures prog on frames (cycled) and an XDP_DROP program on the
// same frames in the same loop, and reports "ns/packet" (prog),
// "floor-ns/packet" (XDP_DROP) and "net-ns/packet" (their difference), the
// kernel's own per-run times, and "x-floor", their ratio (left out when
// the floor measures 0 ns). Frames are clipped as by [Run].
//
// Each call runs a frame [Repeat] times, and BPF_PROG_TEST_RUN runs every
// repetition on the frame as the previous one left it: Bench is only for
// programs that do not rewrite the packet. Use [BenchFresh] for those that
// do (encapsulation, header rewrites).
func Bench(b *testing.B, prog *ebpf.Program, frames [][]byte) {
	b.Helper()
	if len(frames) == 0 {
		b.Fatal("kerneltest: Bench needs at least one frame")
	}
	bench(b, prog, frames, true, Repeat, nil)
}

// BenchFresh is [Bench] for programs that rewrite the packet: every run
// gets the original frame (one run per BPF_PROG_TEST_RUN call) and must
// return the verdict want, so the benchmark measures the path it claims
// to. The XDP_DROP floor is measured the same way in the same loop, and
// only the kernel's own per-run times are summed, so the system call
// around each run is not counted; the per-run timer reads are, in both
// figures alike. It reports the metrics of [Bench].
func BenchFresh(b *testing.B, prog *ebpf.Program, frames [][]byte, want uint32) {
	b.Helper()
	if len(frames) == 0 {
		b.Fatal("kerneltest: BenchFresh needs at least one frame")
	}
	bench(b, prog, frames, false, 1, &want)
}

// bench runs prog and an XDP_DROP floor on the same frames in one loop,
// each call repeating a frame repeat times, and reports both per-packet
// times, their difference and their ratio. Each iteration of the loop
// takes the next frame (cycle) or all of them. With want set, every run
// of prog must return that verdict.
//
// In cycle mode each frame is measured [Rounds] times, prog and floor
// alternating, and each side counts its least time: interference (an
// interrupt, another tenant of the machine) only ever adds time, and one
// disturbed call would otherwise move the mean of a few hundred.
func bench(b *testing.B, prog *ebpf.Program, frames [][]byte, cycle bool, repeat int, want *uint32) {
	rounds := 1
	if cycle {
		rounds = Rounds
	}
	b.Helper()
	floor := Drop(b)
	var progT, floorT time.Duration
	runs, next := 0, 0
	for b.Loop() {
		batch := frames
		if cycle {
			batch = frames[next%len(frames) : next%len(frames)+1]
			next++
		}
		for _, f := range batch {
			f = Clip(f)
			d, df := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			for range rounds {
				v, dr, err := prog.Benchmark(f, repeat, nil)
				if err != nil {
					b.Fatal(err)
				}
				if want != nil && v != *want {
					b.Fatalf("verdict %d, want %d: the benchmark must measure that path", v, *want)
				}
				_, dfr, err := floor.Benchmark(f, repeat, nil)
				if err != nil {
					b.Fatal(err)
				}
				d, df = min(d, dr), min(df, dfr)
			}
			progT += d
			floorT += df
			runs++
		}
	}
	report(b, progT, floorT, runs)
}

// report reports what [bench] measured: runs runs of prog that took progT
// and of the floor that took floorT. It leaves the ratio "x-floor" out
// when the floor measured 0 ns (each run faster than the kernel's clock
// resolves, the least of a few rounds): the ratio would be +Inf (or NaN
// with prog at 0 ns too), which benchstat cannot average, and no other
// number would be true. The other three metrics stand as measured.
func report(b interface{ ReportMetric(float64, string) }, progT, floorT time.Duration, runs int) {
	ns := float64(progT.Nanoseconds()) / float64(runs)
	fl := float64(floorT.Nanoseconds()) / float64(runs)
	b.ReportMetric(ns, "ns/packet")
	b.ReportMetric(fl, "floor-ns/packet")
	b.ReportMetric(ns-fl, "net-ns/packet")
	if fl > 0 {
		b.ReportMetric(ns/fl, "x-floor")
	}
}

// BenchMillis runs fn in b's loop, failing b on its first error, and
// reports the milliseconds one call took as "ms/"+unit: the loaders' reads,
// writes and flips of whole tables, which take milliseconds, not
// nanoseconds.
func BenchMillis(b *testing.B, unit string, fn func() error) {
	b.Helper()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/"+unit)
}

// Call runs fn and returns its error. If fn panics, Call fails tb, naming
// name and the panic, and returns an error saying it panicked: the
// loaders' misuse tests call every method of a zero or closed kernel
// through it, so that one panic does not hide the others.
func Call(tb testing.TB, name string, fn func() error) (err error) {
	tb.Helper()
	defer func() {
		if r := recover(); r != nil {
			tb.Errorf("%s panics: %v", name, r)
			err = fmt.Errorf("%s panicked: %v", name, r)
		}
	}()
	return fn()
}

// Refused fails tb for each of calls that does not return an error
// containing want, naming the call and what, the input refused: the
// loaders' tests of ReadInto and FlipInto refusing a table.
func Refused(tb testing.TB, what, want string, calls map[string]func() error) {
	tb.Helper()
	for name, call := range calls {
		if err := Call(tb, name, call); err == nil || !strings.Contains(err.Error(), want) {
			tb.Errorf("%s, %s: error %v, want one containing %q", name, what, err, want)
		}
	}
}

// NoAllocs fails tb if fn allocates: it calls fn once (a first read may
// make a buffer the loader then keeps), then counts the allocations of
// 20 more calls, failing tb on an error from fn. It counts them all, as
// testing.AllocsPerRun (which divides by the calls and rounds down) does
// not: an fn that allocates on one call in five allocates.
//
// The count is the process's (runtime.MemStats), so an allocation by
// another goroutine while fn waits in a system call counts too: once, in
// a CI run, 1 in 20 calls of a loader's Stats under an emulated arm64
// kernel. So a count that is not zero is taken again, up to three times
// in all, and tb fails only if every count found allocations: fn's own
// recur in each, a stray one does not.
func NoAllocs(tb testing.TB, name string, fn func() error) {
	tb.Helper()
	if err := fn(); err != nil {
		tb.Fatal(err)
	}
	const calls, counts = 20, 3
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var n uint64
	for range counts {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range calls {
			if err := fn(); err != nil {
				tb.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		if n = after.Mallocs - before.Mallocs; n == 0 {
			return
		}
	}
	tb.Errorf("%s allocates: %d times in %d calls (and in each of %d counts of %d calls), want 0", name, n, calls, counts, calls)
}

// MapFreed reports whether the map with the given ID is gone from the
// kernel within wait, polling without running the garbage collector: a
// loader's Close must free its maps itself, not leave a reference (a
// memory mapping, a file descriptor) for a finalizer to drop. Looking a
// map up by ID takes CAP_SYS_ADMIN, which BPF programs do not need:
// without it MapFreed skips tb as [Require] does.
func MapFreed(tb testing.TB, id ebpf.MapID, wait time.Duration) bool {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for {
		m, err := ebpf.NewMapFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			return true
		}
		if errors.Is(err, os.ErrPermission) {
			Skip(tb, fmt.Sprintf("looking map %d up by ID takes CAP_SYS_ADMIN: %v", id, err))
		}
		if err != nil {
			tb.Fatalf("map %d: %v", id, err)
		}
		m.Close()
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MapID returns the kernel's ID of m.
func MapID(tb testing.TB, m *ebpf.Map) ebpf.MapID {
	tb.Helper()
	info, err := m.Info()
	if err != nil {
		tb.Fatal(err)
	}
	id, ok := info.ID()
	if !ok {
		tb.Fatal("map info without an ID")
	}
	return id
}

// WithMap runs fn with *m replaced by a new map made from spec, then puts
// *m back and closes the new map. A map whose values do not fit a
// loader's types makes the loader's batch reads and writes fail, as a
// transient error would, so tests reach the loaders' error paths.
func WithMap(tb testing.TB, m **ebpf.Map, spec *ebpf.MapSpec, fn func()) {
	tb.Helper()
	swap, err := ebpf.NewMap(spec)
	if err != nil {
		tb.Fatal(err)
	}
	defer swap.Close()
	old := *m
	*m = swap
	defer func() { *m = old }()
	fn()
}

// StaticFuncs makes every kernel loaded for the rest of tb's test load as
// on a kernel without BTF of its own, with its functions static (see
// [bpfload.ForKernel]), whatever the running kernel has.
func StaticFuncs(tb testing.TB) {
	tb.Cleanup(bpfload.ForceStaticFuncs())
}

// CheckLinkage fails tb unless the function named fn has linkage want in
// the kernel's own record of program p (its BTF function information), so
// that a test can tell how the program was loaded: with fn global, checked
// on its own, or static, checked at each call. It also fails tb when p has
// no such function or its records cannot be read.
func CheckLinkage(tb testing.TB, p *ebpf.Program, fn string, want btf.FuncLinkage) {
	tb.Helper()
	info, err := p.Info()
	if err != nil {
		tb.Fatalf("program info: %v", err)
	}
	funcs, err := info.FuncInfos()
	if err != nil {
		tb.Fatalf("program %s's function records: %v", info.Name, err)
	}
	var names []string
	for _, f := range funcs {
		if f.Func.Name == fn {
			if f.Func.Linkage != want {
				tb.Fatalf("program %s: %s loaded as a %v function, want %v (kernel BTF: %v)", info.Name, fn, f.Func.Linkage, want, bpfload.KernelBTF())
			}
			return
		}
		names = append(names, f.Func.Name)
	}
	tb.Fatalf("program %s has no function %s, only %v", info.Name, fn, names)
}

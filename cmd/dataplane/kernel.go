package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// Helpers for the kernel half of a section. A section that runs its
// package's reference kernel loads it only when r.KernelAllowed(), hands a
// load error to r.KernelSkipped (which returns the line to print, or the
// error under -kernel on), runs r.KernelFrames() through the program once
// each to compare the kernel's maps with the Go structure, and reports
// speed with KernelSpeed, next to the XDP_DROP floor measured in the same
// call.

// kernelMaxFrames bounds how many frames a section replays through a
// kernel one by one (a system call each).
const kernelMaxFrames = 500_000

// KernelFrames returns the frames a kernel can be run on, in order: those
// of at least an Ethernet header, clipped to what BPF_PROG_TEST_RUN takes,
// at most kernelMaxFrames of them. The result is computed once.
func (r *Run) KernelFrames() [][]byte {
	if r.kernelFrames == nil {
		r.kernelFrames = make([][]byte, 0, min(len(r.Frames), kernelMaxFrames))
		for _, f := range r.Frames {
			if len(r.kernelFrames) == kernelMaxFrames {
				break
			}
			if len(f) < 14 {
				continue
			}
			r.kernelFrames = append(r.kernelFrames, f[:min(len(f), bpfload.MaxFrame())]) // clipped: the kernels see a frame's linear part
		}
	}
	return r.kernelFrames
}

// KernelSkipped returns what a section whose kernel could not load (err)
// reports in its place. When err says that BPF cannot run here (see
// bpfUnavailable) and -kernel on does not require it, that is a line and
// no error: the first section to get one gives the reason, the later ones
// name that section instead of repeating it (what names the section).
// Otherwise it is "kernel: failed to load" and err, which fails the
// section.
func (r *Run) KernelSkipped(what string, err error) (string, error) {
	if r.KernelRequired() || !bpfUnavailable(err) {
		return "kernel: failed to load", err // the loaders' errors name their kernel
	}
	if r.kernelSkippedIn != "" {
		return fmt.Sprintf("kernel: not run (BPF unavailable, as the %s section said)", r.kernelSkippedIn), nil
	}
	r.kernelSkippedIn = what
	why := err.Error()
	if errors.Is(err, ebpf.ErrNotSupported) {
		why = "BPF is not supported here"
	}
	return fmt.Sprintf("kernel: not run (%s; -kernel on makes this an error)", why), nil
}

// bpfUnavailable reports whether a kernel's load error says that BPF
// cannot run here at all: not supported (not Linux, or a kernel built
// without it), or not permitted (EPERM or EACCES, want of privileges; the
// verifier's refusal is EACCES too, and is also what a caller without
// CAP_PERFMON gets, so the error alone cannot tell the two apart).
func bpfUnavailable(err error) bool {
	return errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, errors.ErrUnsupported) || errors.Is(err, os.ErrPermission)
}

// speedFrames and speedRepeat: KernelSpeed times 64 frames of the trace, a
// quarter million runs of each program, in about 5 s a program.
const (
	speedFrames = 64
	speedRepeat = 4096
)

// KernelSpeed measures prog with BPF_PROG_TEST_RUN on up to speedFrames
// frames spread over r.KernelFrames(), each run speedRepeat times,
// interleaved with an XDP_DROP program on the same frames: it returns the
// kernel's own per-packet times of both. (Each test run swaps the
// kernel's XDP dispatcher and waits for an RCU grace period, some 30 ms
// whatever it measures; few calls with many repeats keep the measurement
// short.) Programs that change their maps change them speedRepeat times
// per frame here; measure after comparing maps.
func (r *Run) KernelSpeed(prog *ebpf.Program) (ns, floorNs float64, err error) {
	frames := r.KernelFrames()
	if len(frames) == 0 {
		return 0, 0, errors.New("no frame a kernel can run")
	}
	if len(frames) > speedFrames {
		sample := make([][]byte, speedFrames)
		for i := range sample {
			sample[i] = frames[i*len(frames)/len(sample)]
		}
		frames = sample
	}
	floor, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.XDP,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}, // XDP_DROP
		License:      "Dual BSD/GPL",
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load XDP_DROP floor: %w", err)
	}
	defer floor.Close()
	var progT, floorT time.Duration
	for i, f := range frames {
		r.Progress("kernel speed", i, len(frames))
		_, d, err := prog.Benchmark(f, speedRepeat, nil)
		if err != nil {
			return 0, 0, err
		}
		_, df, err := floor.Benchmark(f, speedRepeat, nil)
		if err != nil {
			return 0, 0, err
		}
		progT += d
		floorT += df
	}
	n := float64(len(frames))
	return float64(progT.Nanoseconds()) / n, float64(floorT.Nanoseconds()) / n, nil
}

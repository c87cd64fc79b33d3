package kerneltest

import (
	"os"
	"testing"
)

func TestRequire_Skips(t *testing.T) {
	err := Available()
	t.Logf("BPF available: %v (error: %v), %s=%q", err == nil, err, EnvRequire, os.Getenv(EnvRequire))
	if err != nil && Required() {
		t.Fatalf("%s=1 but BPF programs cannot run: %v", EnvRequire, err)
	}
}

func TestDrop_Verdict(t *testing.T) {
	prog := Drop(t)
	verdict, out := Run(t, prog, make([]byte, 60))
	if verdict != 1 {
		t.Fatalf("XDP_DROP program returned %d", verdict)
	}
	if len(out) != 60 {
		t.Fatalf("output frame of %d bytes, want 60", len(out))
	}
	big := make([]byte, MaxFrame+100)
	if got := len(Clip(big)); got != MaxFrame {
		t.Fatalf("Clip kept %d bytes", got)
	}
	if _, out := Run(t, prog, big); len(out) != MaxFrame {
		t.Fatalf("a clipped frame came back with %d bytes", len(out))
	}
}

func BenchmarkDrop(b *testing.B) {
	Bench(b, Drop(b), [][]byte{make([]byte, 64)})
}

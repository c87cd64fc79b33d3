package capture_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
)

// TestFiles_BrokenLink: a link named like a capture that leads nowhere
// does not hide the captures beside it; Files returns them with an error
// naming the link. It used to skip the link without a word.
func TestFiles_BrokenLink(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.pcap", "sub/b.pcapng"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	broken := filepath.Join(dir, "sub", "gone.pcap")
	if err := os.Symlink(filepath.Join(dir, "missing.pcap"), broken); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	got, err := capture.Files(dir)
	want := []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "sub", "b.pcapng")}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Files = %v, want %v", got, want)
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "link "+broken) ||
		!strings.Contains(err.Error(), "1 entries under "+dir) {
		t.Errorf("Files error %v, want one naming the link %s", err, broken)
	}
}

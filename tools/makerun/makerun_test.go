package makerun

import (
	"path/filepath"
	"testing"
	"time"
)

var root, _ = filepath.Abs(filepath.Join("..", ".."))

// TestMakeRunStopsInOrder starts `make run` for real and stops it each way a newcomer or CI does,
// checking the exit status, what it says, the stop order, that no process is left and that the
// temporary folder is gone. tools/stressstop runs the same stops many times under load.
func TestMakeRunStopsInOrder(t *testing.T) {
	for _, s := range Stops {
		t.Run(s.Name, func(t *testing.T) {
			r, err := Start(root, 5*time.Minute, nil)
			if r != nil {
				t.Cleanup(func() {
					r.Close()
					if t.Failed() {
						t.Logf("make run output:\n%s\n%s", r.Output(), r.Logs())
					}
				})
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := r.StopAndCheck(s); err != nil {
				t.Error(err)
			}
		})
	}
}

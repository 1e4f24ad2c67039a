package blob

import (
	"os/exec"
	"syscall"
)

// dieWithParent kills Azurite if the test binary dies without stopping it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

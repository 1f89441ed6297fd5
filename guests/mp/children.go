package mp

// EndChildren does what CPython does when any process ends
// (multiprocessing.util._exit_function): it terminates the calling
// process's daemonic children, then joins every child still alive. The
// host does the same by itself once the process returns; call EndChildren
// to have it happen at a point of the program's choosing, e.g. before a
// last line that must come after everything the children print.
//
//	mp.Main(func() {
//		mp.NewProcess(worker, mp.Daemon(true)).Start()
//		mp.NewProcess(worker).Start()
//		mp.EndChildren()
//		fmt.Println("all children done")
//	})
func EndChildren() error {
	for _, p := range ActiveChildren() {
		if p.Daemon() {
			if err := p.Terminate(); err != nil {
				return err
			}
		}
	}
	for _, p := range ActiveChildren() {
		if err := p.Join(); err != nil {
			return err
		}
	}
	return nil
}

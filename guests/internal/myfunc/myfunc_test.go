package myfunc

func ExampleMyFunc() {
	MyFunc(0)
	MyFunc(3)
	// Output:
	// calling myFunc from process n°: 0
	// calling myFunc from process n°: 3
	// output from myFunc is :0
	// output from myFunc is :1
	// output from myFunc is :2
}

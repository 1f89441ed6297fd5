//go:build wasip1

// Command communicating_with_queue is the book's
// communicating_with_queue.py: a producer and a consumer, both
// "subclasses" of Process (so named producer-1 and consumer-2), share a
// Queue. The producer puts 10 random ints from 0 to 256, one a second,
// printing each and then the queue's size; the consumer stops at the
// first time it finds the queue empty, else sleeps 2 s, gets an item,
// prints it and sleeps 1 s.
//
//	class producer(multiprocessing.Process):
//	    def __init__(self, queue):
//	        multiprocessing.Process.__init__(self)
//	        self.queue = queue
//
//	    def run(self) :
//	        for i in range(10):
//	            item = random.randint(0, 256)
//	            self.queue.put(item)
//	            print ("Process Producer : item %d appended to queue %s"\
//	                   % (item,self.name))
//	            time.sleep(1)
//	            print ("The size of queue is %s"\
//	                   % self.queue.qsize())
//
//	class consumer(multiprocessing.Process):
//	    def __init__(self, queue):
//	        multiprocessing.Process.__init__(self)
//	        self.queue = queue
//
//	    def run(self):
//	        while True:
//	            if (self.queue.empty()):
//	                print("the queue is empty")
//	                break
//	            else :
//	                time.sleep(2)
//	                item = self.queue.get()
//	                print ('Process Consumer : item %d popped \
//	                        from by %s \n'\
//	                       % (item, self.name))
//	                time.sleep(1)
//
//	if __name__ == '__main__':
//	        queue = multiprocessing.Queue()
//	        process_producer = producer(queue)
//	        process_consumer = consumer(queue)
//	        process_producer.start()
//	        process_consumer.start()
//	        process_producer.join()
//	        process_consumer.join()
//
// The consumer's first empty check races the producer's first put, as in
// Python: if it comes first, the consumer prints "the queue is empty" and
// ends at once; otherwise it takes an item every 3 s while the producer
// puts one a second, so it never finds the queue empty until it has taken
// all ten, in the order they were put (about 30 s).
//
// The consumer's line is printed as the original prints it: the backslash
// at the end of the first line of its string literal continues the string
// on the next line, so the 24 spaces indenting "from by" are part of it,
// and the "\n" at its end gives an empty line after it.
//
// The README sample lines need what only the children know (the first
// item put, the first item got), so each child records it in a Manager
// namespace that the main process reads after joining both. This adds no
// output, and the race is untouched: the records are made after the put
// and the get. The Manager is made after the two processes, so that they
// keep the names producer-1 and consumer-2 (a Manager uses up a process
// number, as CPython's server process does).
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/sandbox-dev/sandbox/guests/mp"
)

// producer is the book's class producer(multiprocessing.Process).
type producer struct {
	mp.Process
	Queue  *mp.Queue
	Report *mp.Namespace // for the README sample line only
}

// Run is producer.run.
func (p *producer) Run() {
	for i := range 10 {
		item := rand.IntN(257) // random.randint(0, 256): both ends included
		check(p.Queue.Put(item))
		fmt.Printf("Process Producer : item %d appended to queue %s\n", item, p.Name())
		if i == 0 {
			check(p.Report.Set("first_put", item))
		}
		time.Sleep(time.Second)
		fmt.Printf("The size of queue is %d\n", p.Queue.Qsize())
	}
}

// consumer is the book's class consumer(multiprocessing.Process).
type consumer struct {
	mp.Process
	Queue  *mp.Queue
	Report *mp.Namespace // for the README sample line only
}

// poppedFormat is the consumer's string as the original's literal makes
// it: "popped \" continued by the next line's 24 spaces of indentation.
var poppedFormat = "Process Consumer : item %d popped " + strings.Repeat(" ", 24) + "from by %s \n"

// Run is consumer.run.
func (c *consumer) Run() {
	first := true
	for {
		if c.Queue.Empty() {
			fmt.Println("the queue is empty")
			break
		} else {
			time.Sleep(2 * time.Second)
			var item int
			check(c.Queue.Get(&item))
			fmt.Println(fmt.Sprintf(poppedFormat, item, c.Name()))
			if first {
				check(c.Report.Set("first_got", item))
				first = false
			}
			time.Sleep(time.Second)
		}
	}
}

func main() {
	mp.RegisterClass(&producer{}, &consumer{})
	mp.Main(func() {
		queue := mp.NewQueue(0)
		processProducer := &producer{Queue: queue}
		mp.Init(processProducer)
		processConsumer := &consumer{Queue: queue}
		mp.Init(processConsumer)
		report := mp.Manager().Namespace()
		processProducer.Report = report
		processConsumer.Report = report
		check(processProducer.Start())
		check(processConsumer.Start())
		check(processProducer.Join())
		check(processConsumer.Join())

		var put, got int
		check(report.Get("first_put", &put))
		fmt.Printf("Process %s added item to queue: %d\n", processProducer.Name(), put)
		if report.Has("first_got") {
			check(report.Get("first_got", &got))
			fmt.Printf("Process %s received item from queue: %d\n", processConsumer.Name(), got)
		} else {
			fmt.Printf("Process %s received no item from queue: it found the queue empty\n", processConsumer.Name())
		}
	})
}

// check ends the process as an uncaught exception would (exit code 1).
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "communicating_with_queue: %s: %v\n", mp.CurrentProcess().Name(), err)
		os.Exit(1)
	}
}

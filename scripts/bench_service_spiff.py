"""The peer of `shuju bench service`: SpiffWorkflow (a real BPMN engine, from PyPI) runs the same
process as Shuju's benchmark, with its state made durable the way a workflow service keeps it:
after every step the workflow is serialised (SpiffWorkflow's JSON serializer) and written to
SQLite in its own committed transaction (WAL, synchronous=FULL, as Shuju's store).

The process: accept (one department) -> parallel review by two departments -> join -> decide ->
end. One case is opened (a workflow created and saved) and its four human tasks completed, each
step saved: five durable transitions per case, as in Shuju.

Usage: python bench_service_spiff.py CASES DB_PATH   -> prints one JSON line
"""

import json
import sqlite3
import sys
import time

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="co_approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="accept" name="accept"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="market" name="market"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="env" name="env"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="decide" name="decide"><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="accept"/>
    <bpmn:sequenceFlow id="f1" sourceRef="accept" targetRef="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="market"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="env"/>
    <bpmn:sequenceFlow id="f4" sourceRef="market" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="env" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="decide"/>
    <bpmn:sequenceFlow id="f7" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def main():
    cases = int(sys.argv[1])
    db = sqlite3.connect(sys.argv[2], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS workflows (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.encode())
    spec = parser.get_spec("co_approval")
    serializer = BpmnWorkflowSerializer()

    def save(i, wf):
        db.execute("BEGIN")
        db.execute(
            "INSERT OR REPLACE INTO workflows (id, state) VALUES (?, ?)",
            (i, serializer.serialize_json(wf)),
        )
        db.execute("COMMIT")

    transitions = 0
    started = time.perf_counter()
    for i in range(cases):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        save(i, wf)
        transitions += 1
        while not wf.is_completed():
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                raise SystemExit("no ready task before the end")
            ready[0].run()
            wf.do_engine_steps()
            save(i, wf)
            transitions += 1
    elapsed = time.perf_counter() - started
    assert transitions == cases * 5, transitions
    print(json.dumps({"cases": cases, "transitions": transitions, "seconds": elapsed,
                      "cases_per_s": cases / elapsed, "transitions_per_s": transitions / elapsed}))


if __name__ == "__main__":
    main()

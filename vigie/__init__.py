"""vigie: real-time supervision and load-testing harness for national digital exams."""

__version__ = "0.1.0"

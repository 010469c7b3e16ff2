"""The wire contract, typed once: websocket messages (``ws``), HTTP bodies (``http``) and
metric names (``metrics``), shared by the exam server, the tablets, the jury view, the SRE
boards and the generated docs. Import the submodule you need; nothing heavy is imported."""

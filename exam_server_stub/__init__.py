"""exam_server_stub"""

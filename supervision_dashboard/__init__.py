"""supervision_dashboard"""

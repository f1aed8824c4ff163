"""`odd-dashboard`: the Textual terminal UI of the Task Observatory.

It talks to the services over HTTP only (the read model for everything it shows, the
gateway for submissions and retries), runs every network call in a Textual worker so the
screen never freezes, and can start the system itself (`odto up --json`) when nothing
answers. `main` is the console script; `app.ObservatoryApp` is the Textual app.
"""

"""The start itself: the warm start (launch.plan.start_warm: the last full start's
verdict, taken again when nothing it rested on has changed), the full start
(launch.startup: notify, wait, check, prepare), and what both end in (launch.finish:
READY=1 and exec, or the refusal). Side effects are passed in as values
(launch.effects); plans are kept in the service's own cache (launch.store)."""

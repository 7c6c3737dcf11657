"""The entry points of Modelyard's built-in jobs (`python -m modelyard.builtin_jobs.<job>`).

Each runs inside a job like a user's script and reports through the SDK
(`Run.get_context()`); the work itself lives in its own package (`vision/` for image
classification), which knows nothing of the SDK. So these modules sit above the SDK, the
packages they run below the services that submit them.
"""

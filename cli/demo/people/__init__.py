"""The demo's sample people, who fill the portal's forms over real HTTP the way a person with a phone
would: ``experts`` (the review's score sheets), ``supervisors`` (the grantees' 中期 / 结项报告 and the
supervisors' 督导记录). What they type is data: ``examples/jiangtou-2025/year.yaml``
(``cli.demo.example.year``). ``portal`` runs the portal for them with the demo's clock."""

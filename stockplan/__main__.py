from stockplan.cli import main

main()
